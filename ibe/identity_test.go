package ibe

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseIdentity(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"bob@example.org", "bob@example.org"},
		{"  Bob@Example.ORG\n", "bob@example.org"},
		{"bob+tag@mail.example.org", "bob+tag@mail.example.org"},
		{"o'brien@example.org", "o'brien@example.org"},
		{"bob@localhost", "bob@localhost"},
		{"Billing-Service", "billing-service"},
		{"app_1.prod", "app_1.prod"},
		{"bob@example.org;epoch=2026-11", "bob@example.org;epoch=2026-11"},
		{"BOB@example.org;EPOCH=Q4.2026", "bob@example.org;epoch=q4.2026"},
		{"bob@example.org;epoch= 2026-11 ", "bob@example.org;epoch=2026-11"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CanonicalIdentity(tt.in)
			if err != nil {
				t.Fatalf("CanonicalIdentity(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("CanonicalIdentity(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := CanonicalIdentity(got)
			if err != nil || again != got {
				t.Fatalf("canonical form %q is not stable: %q, %v", got, again, err)
			}
		})
	}
}

func TestParseIdentityRejects(t *testing.T) {
	tests := []struct {
		name, in, mention string
	}{
		{"empty", "", "empty"},
		{"spaces only", "   ", "empty"},
		{"two ats", "bob@@example.org", "more than one @"},
		{"no local part", "@example.org", "before @"},
		{"no domain", "bob@", "no domain"},
		{"empty label", "bob@example..org", "domain labels"},
		{"hyphen label", "bob@-example.org", "may not start or end"},
		{"leading dot", ".bob@example.org", "dot"},
		{"double dot", "bo..b@example.org", "dot"},
		{"space inside", "bob smith@example.org", "not allowed"},
		{"comma", "bob@example.org,carol@example.org", "more than one @"},
		{"comma in domain", "bob@example.org,x", "not allowed"},
		{"colon", "bob:x", "only contain"},
		{"semicolon", "bob;x", "only contain"},
		{"non-ASCII", "björn@example.org", "non-ASCII"},
		{"control", "bob\x00@example.org", "control"},
		{"too long", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 200) + ".org", "longer than"},
		{"local too long", strings.Repeat("a", 65) + "@example.org", "1 to 64"},
		{"empty epoch", "bob@example.org;epoch=", "empty epoch"},
		{"bad epoch", "bob@example.org;epoch=2026/11", "epoch"},
		{"long epoch", "bob@example.org;epoch=" + strings.Repeat("1", 33), "epoch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIdentity(tt.in)
			if !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("ParseIdentity(%q) err = %v, want ErrInvalidIdentity", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestWithEpoch(t *testing.T) {
	got, err := WithEpoch("Bob@Example.org", MonthEpoch(time.Date(2026, 11, 23, 23, 0, 0, 0, time.FixedZone("x", -3600))))
	if err != nil {
		t.Fatal(err)
	}
	if want := "bob@example.org;epoch=2026-11"; got != want {
		t.Fatalf("WithEpoch = %q, want %q", got, want)
	}
	if MonthEpoch(time.Date(2026, 11, 30, 23, 30, 0, 0, time.FixedZone("x", -3600))) != "2026-12" {
		t.Fatal("MonthEpoch does not use UTC")
	}
}

// TestH1InputUnambiguous checks the length-prefixed H1 encoding: names and
// epochs that concatenate alike hash differently.
func TestH1InputUnambiguous(t *testing.T) {
	a := Identity{Name: "bob", Epoch: "1"}.h1Input()
	b := Identity{Name: "bob1", Epoch: ""}.h1Input()
	if string(a) == string(b) {
		t.Fatal("h1 inputs collide")
	}
	if !strings.HasPrefix(string(a), "sticky-ibe-v1\x00") {
		t.Fatal("h1 input lacks the version prefix")
	}
}
