package intake

import (
	"encoding/binary"
	"sync"
)

// recentIDs remembers the content hash of the client-made ids this process accepted lately, so
// that a kiosk or phone resending after a lost acknowledgement — usually within seconds — is
// answered from memory without a database lookup. It is bounded: once full, each new id makes
// it forget the oldest. An entry is the id's 16 bytes and the first 8 bytes of its content hash
// (a false "same content" needs a 64-bit collision between two bodies sent under one id), with
// no pointers for the garbage collector to scan: about 40 bytes an entry, 1.3 MB at the default
// size. The live heap matters twice over here, since the server runs with GOGC=400.
type recentIDs struct {
	mu   sync.Mutex
	m    map[[16]byte]uint64
	ring [][16]byte // ids in insertion order; next is the oldest once full
	next int
}

func newRecentIDs(capacity int) *recentIDs {
	return &recentIDs{m: make(map[[16]byte]uint64, capacity), ring: make([][16]byte, 0, capacity)}
}

// match reports whether id was accepted recently, and if so whether with this content hash.
// Ids or hashes that are not in canonical form are never remembered.
func (c *recentIDs) match(id, hash string) (known, same bool) {
	h, known := c.get(id)
	if !known {
		return false, false
	}
	return true, sameHash(h, hash)
}

// get returns the (shortened) content hash id was accepted with, if it is remembered.
func (c *recentIDs) get(id string) (hash uint64, known bool) {
	k, ok := parseHex16(id, true)
	if !ok {
		return 0, false
	}
	c.mu.Lock()
	hash, known = c.m[k]
	c.mu.Unlock()
	return hash, known
}

// shortHash is the part of a content hash (hex) that recentIDs keeps.
func shortHash(hash string) (uint64, bool) {
	v, ok := parseHex16(hash, false)
	return binary.BigEndian.Uint64(v[:8]), ok
}

// sameHash reports whether hash (hex) shortens to h.
func sameHash(h uint64, hash string) bool {
	v, ok := shortHash(hash)
	return ok && v == h
}

// put remembers that id was accepted with hash.
func (c *recentIDs) put(id, hash string) {
	k, ok := parseHex16(id, true)
	v, ok2 := shortHash(hash)
	if !ok || !ok2 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.m[k]; seen {
		c.m[k] = v
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % len(c.ring)
	}
	c.m[k] = v
}

// parseHex16 reads 16 bytes written as 32 hex digits — a UUID in 8-4-4-4-12 form when uuid is
// set, a content hash otherwise — without allocating.
func parseHex16(s string, uuid bool) (out [16]byte, ok bool) {
	want := 32
	if uuid {
		want = 36
	}
	if len(s) != want {
		return out, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if uuid && (i == 8 || i == 13 || i == 18 || i == 23) {
			if s[i] != '-' {
				return out, false
			}
			continue
		}
		d, ok := hexDigit(s[i])
		if !ok {
			return out, false
		}
		if n%2 == 0 {
			out[n/2] = d << 4
		} else {
			out[n/2] |= d
		}
		n++
	}
	return out, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
