package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// RootPolicyFile is the name of the root policy in a policy directory.
const RootPolicyFile = "Policy.xml"

// ParsePolicy reads and parses one XACML policy document.
func ParsePolicy(data []byte) (*xacml.Root, error) {
	doc, err := xmlsafe.Parse(data, xmlsafe.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return xacml.Parse(doc.Root())
}

// LoadFile parses and compiles one policy file (no references).
func LoadFile(path string, opts ...Option) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	root, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	p, err := Compile(root, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return p, nil
}

// LoadDirectory compiles the policy repository in dir: its root is
// Policy.xml, and every other *.xml file holds a Policy or PolicySet that
// PolicyIdReference / PolicySetIdReference may name by id and version.
// Every file must parse; references are resolved (and type-checked) at
// load time.
func LoadDirectory(dir string, opts ...Option) (*Policy, error) {
	return LoadRepository(dir, RootPolicyFile, opts...)
}

// LoadRepository is LoadDirectory with another root file name.
func LoadRepository(dir, rootFile string, opts ...Option) (*Policy, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var root *xacml.Root
	var others []*xacml.Root
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".xml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		r, err := ParsePolicy(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if e.Name() == rootFile {
			root = r
		} else {
			others = append(others, r)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s: no %s in the directory", dir, rootFile)
	}
	opts = append([]Option{WithResolver(RepositoryResolver(append(others, root)))}, opts...)
	return Compile(root, opts...)
}

// RepositoryResolver resolves references among the given policies: the
// latest version that satisfies the reference's Version, EarliestVersion
// and LatestVersion constraints wins.
func RepositoryResolver(roots []*xacml.Root) Resolver {
	return func(ref *xacml.Reference) (*xacml.Root, error) {
		var best *xacml.Root
		for _, r := range roots {
			if (ref.Kind == xacml.PolicyRef) != (r.Policy != nil) || r.ID() != ref.ID {
				continue
			}
			if !VersionMatches(ref, r.Version()) {
				continue
			}
			if best == nil || compareVersions(r.Version(), best.Version()) > 0 {
				best = r
			}
		}
		if best == nil {
			kind := "Policy"
			if ref.Kind == xacml.PolicySetRef {
				kind = "PolicySet"
			}
			return nil, fmt.Errorf("%w: no %s %q matches", ErrUnresolved, kind, ref.ID)
		}
		return best, nil
	}
}

// VersionMatches reports whether version satisfies a reference's version
// constraints (patterns with * and + as XACML defines them).
func VersionMatches(ref *xacml.Reference, version string) bool {
	if ref.Version != "" && !matchPattern(ref.Version, version) {
		return false
	}
	if ref.EarliestVersion != "" && !boundOK(ref.EarliestVersion, version, 1) {
		return false
	}
	if ref.LatestVersion != "" && !boundOK(ref.LatestVersion, version, -1) {
		return false
	}
	return true
}

func patternRE(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i, part := range strings.Split(p, ".") {
		if i > 0 {
			b.WriteString(`\.`)
		}
		switch part {
		case "*":
			b.WriteString(`\d+`)
		case "+":
			b.WriteString(`\d+(\.\d+)*`)
		default:
			b.WriteString(regexp.QuoteMeta(part))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func matchPattern(p, v string) bool {
	re, err := patternRE(p)
	return err == nil && re.MatchString(v)
}

// boundOK: dir 1 means version >= bound, -1 means version <= bound; a
// bound with wildcards is compared by its literal prefix.
func boundOK(bound, v string, dir int) bool {
	if strings.ContainsAny(bound, "*+") {
		if matchPattern(bound, v) {
			return true
		}
		bound = strings.NewReplacer("*", "0", "+", "0").Replace(bound)
	}
	return compareVersions(v, bound)*dir >= 0
}

func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// DirectoryResolver resolves references against the *.xml files of dir
// other than skip (the root's own file). Files are read when a reference
// first needs them; files that are not policies (a request lying next to
// the policy, say) are ignored.
func DirectoryResolver(dir, skip string) Resolver {
	var roots []*xacml.Root
	loaded := false
	return func(ref *xacml.Reference) (*xacml.Root, error) {
		if !loaded {
			loaded = true
			entries, err := os.ReadDir(dir)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if e.IsDir() || !strings.HasSuffix(e.Name(), ".xml") || e.Name() == skip {
					continue
				}
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					continue
				}
				if r, err := ParsePolicy(data); err == nil {
					roots = append(roots, r)
				}
			}
		}
		return RepositoryResolver(roots)(ref)
	}
}
