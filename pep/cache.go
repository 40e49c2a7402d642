package pep

import (
	"sync"

	"github.com/stickypolicy/sticky/pdp"
)

// DefaultPolicyCacheSize is the default number of compiled policies kept.
const DefaultPolicyCacheSize = 100_000

// policyCache keeps compiled sticky policies by record id, tagged with the
// policy version they were compiled from. A lookup with another version
// misses, so a stale entry is never used; an update replaces the entry under
// the lock, so the next request after the update sees the new policy. When
// full, an arbitrary entry is evicted (Go map order).
type policyCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]cachedPolicy
}

type cachedPolicy struct {
	version int64
	policy  *pdp.StickyPolicy
}

func newPolicyCache(max int) *policyCache {
	if max <= 0 {
		max = 1
	}
	return &policyCache{max: max, m: make(map[string]cachedPolicy)}
}

func (c *policyCache) get(id string, version int64) (*pdp.StickyPolicy, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || e.version != version {
		return nil, false
	}
	return e.policy, true
}

// put stores p unless a newer version is already cached.
func (c *policyCache) put(id string, version int64, p *pdp.StickyPolicy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok && e.version > version {
		return
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = cachedPolicy{version: version, policy: p}
}

func (c *policyCache) remove(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

func (c *policyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// compiledCache keeps compiled sticky policies by the SHA-256 of their XML,
// so that records stored under the same policy text share one compiled
// policy and a store under a known policy skips parsing and compiling
// (*pdp.StickyPolicy is immutable and record-independent). Bounded like
// policyCache.
type compiledCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]*pdp.StickyPolicy
}

func newCompiledCache(max int) *compiledCache {
	if max <= 0 {
		max = 1
	}
	return &compiledCache{max: max, m: make(map[string]*pdp.StickyPolicy)}
}

func (c *compiledCache) get(hash string) (*pdp.StickyPolicy, bool) {
	c.mu.RLock()
	p, ok := c.m[hash]
	c.mu.RUnlock()
	return p, ok
}

func (c *compiledCache) put(hash string, p *pdp.StickyPolicy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[hash]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[hash] = p
}
