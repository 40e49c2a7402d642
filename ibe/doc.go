// Package ibe implements Boneh-Franklin identity-based encryption (FullIdent)
// on BLS12-381, byte-compatible with drand/kyber encrypt/ibe, the private key
// generator, and hybrid encryption of whole files to one or more identities.
//
// The private key generator (PKG) keeps its master secret in a data
// directory (LoadOrCreatePKG), publishes its Params and extracts identity
// keys (Extract), delivered as a string (EncodeKey) or sealed in an X.509
// certificate (KeyCertificate); ParseKeyFile reads either, and
// (*PrivateKey).Verify checks a key against the public parameters.
//
// Encrypt wraps a fresh data key to each identity and encrypts the data with
// AES-256-GCM in chunks (STREAM), in constant memory; Decrypt reverses it and
// detects modification, reordering, truncation and extension. Identities are
// canonicalised (ParseIdentity) and may carry a validity epoch
// ("bob@example.org;epoch=2026-11"). Identity hashing uses a Sticky-specific
// domain separation tag, so Sticky keys never double as drand/tlock keys or
// BLS signatures; the kyber-compatible hashing is kept for the known-answer
// test. docs/ibe.md specifies the scheme and the formats byte by byte.
package ibe
