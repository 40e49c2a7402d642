// Package scripts holds the shell scripts of the repository (demo setup, fuzz
// smoke) and, in its tests, an end-to-end check of `make run`'s demo setup
// and of every command of README.md's walkthroughs against the real binaries.
package scripts

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root (this package's parent directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDemoSetupAndReadme builds the binaries, runs scripts/demo-setup.sh
// twice (the second run must change nothing), starts stickyd serve like
// `make run` does, and runs every shell block of README.md after the first
// (which is `make run` / `make test`) from a directory laid out like the
// repository, checking what each step must show.
func TestDemoSetupAndReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README walkthrough needs %s", tool)
		}
	}
	root := repoRoot(t)
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Symlink(filepath.Join(root, "examples"), filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	data := "./sticky-data"

	setup := func() string {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "demo-setup.sh"), data, addr)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "STICKYD="+filepath.Join(bin, "stickyd"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("demo-setup.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	out := setup()
	if !strings.Contains(out, "Created the demo principals") || !strings.Contains(out, ". ./sticky-data/demo-tokens.env") {
		t.Errorf("first demo-setup run printed:\n%s", out)
	}
	tokensFile := filepath.Join(work, "sticky-data", "demo-tokens.env")
	fi, err := os.Stat(tokensFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file: %v %v", fi, err)
	}
	tokens, _ := os.ReadFile(tokensFile)
	for _, v := range []string{"STICKY_URL=http://" + addr, "ALICE_TOKEN=", "BOB_TOKEN=", "CAROL_TOKEN=", "ADMIN_TOKEN="} {
		if !bytes.Contains(tokens, []byte("export "+v)) {
			t.Errorf("tokens file lacks %s:\n%s", v, tokens)
		}
	}
	if out := setup(); strings.Contains(out, "Created") {
		t.Errorf("second demo-setup run created principals again:\n%s", out)
	}
	if again, _ := os.ReadFile(tokensFile); !bytes.Equal(again, tokens) {
		t.Error("the second demo-setup run changed the tokens")
	}

	srv := exec.Command(filepath.Join(bin, "stickyd"), "serve", "--addr", addr, "--data", data)
	srv.Dir = work
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stop it like Ctrl-C does and wait for the graceful shutdown.
		srv.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			srv.Process.Kill()
			<-done
			t.Error("stickyd did not stop within 30s of SIGINT")
		}
	})
	up := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if exec.Command("curl", "-sf", "http://"+addr+"/healthz").Run() == nil {
			up = true
			break
		}
	}
	if !up {
		t.Fatalf("stickyd serve did not come up:\n%s", srvLog.String())
	}

	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 3 || !strings.Contains(blocks[0][1], "make run") || !strings.Contains(blocks[0][1], "make test") {
		t.Fatalf("README.md does not start with the make run / make test block")
	}
	var script strings.Builder
	for _, b := range blocks[1:] {
		script.WriteString(b[1])
		script.WriteString("\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The walkthrough keeps its files in /tmp; the test keeps them in its
	// own directory.
	run := exec.CommandContext(ctx, "bash", "-c", strings.ReplaceAll(script.String(), "/tmp/", work+"/"))
	run.Dir = work
	got, _ := run.CombinedOutput() // some commands fail on purpose (denials)
	text := string(got)

	// What the walkthrough must show, in order of appearance.
	steps := []string{
		`"subject":"alice@example.org"`, // alice stores
		"12 Rabbit Hole Lane",           // bob reads for service provision
		`"decision":"Deny"`,             // bob for marketing
		"403",
		"403", // carol
		`"type":"accessed"`,
		`"type":"notified"`,
		`"event":"accessed"`, // alice's inbox
		"204",                // delete
		"404",                // bob after the delete
		`"type":"deleted"`,   // the admin still reads the log
		"12 Rabbit Hole Lane",
		"(HTTP 403)", // sticky get for marketing
		`"decision": "Deny"`,
		`"type": "stored"`,
		"deleted ",
		`"encrypted": true`,
		"Oxford OX1 4AU", // decrypted with bob's key
	}
	rest := text
	for _, s := range steps {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("the README walkthrough's output lacks %q (after the steps before it); output:\n%s\nserver log:\n%s", s, text, srvLog.String())
		}
		rest = rest[i+len(s):]
	}
	for _, bad := range []string{"command not found", "curl: (", "unknown command", "No such file", "usage: sticky"} {
		if strings.Contains(text, bad) {
			t.Errorf("the README walkthrough's output contains %q:\n%s", bad, text)
		}
	}
}
