// Package ibe implements Boneh-Franklin identity-based encryption (FullIdent) on BLS12-381, byte-compatible with drand/kyber encrypt/ibe, the private key generator, and hybrid encryption of whole files to one or more identities.
package ibe
