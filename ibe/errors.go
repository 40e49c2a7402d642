package ibe

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; the returned errors
// wrap them with a sentence that says what exactly is wrong.
var (
	// ErrInvalidIdentity means an identity is empty, too long or contains
	// characters that are not allowed (see ParseIdentity).
	ErrInvalidIdentity = errors.New("ibe: invalid identity")

	// ErrFormat means the input is not a well-formed Sticky IBE ciphertext,
	// key, certificate or parameter set (wrong magic, unknown version, bad
	// lengths, bad encodings).
	ErrFormat = errors.New("ibe: malformed input")

	// ErrNotRecipient means the ciphertext was not encrypted to the key's
	// identity (including the same person under another epoch).
	ErrNotRecipient = errors.New("ibe: the key's identity is not a recipient of this ciphertext")

	// ErrWrongKey means the key's identity is listed as a recipient but the key
	// does not open the wrapped data key: the key belongs to another PKG, is
	// corrupt, or the recipient entry was modified.
	ErrWrongKey = errors.New("ibe: the key does not open this ciphertext")

	// ErrAuthentication means the header or a data chunk failed its integrity
	// check: the ciphertext was modified, reordered or is corrupt.
	ErrAuthentication = errors.New("ibe: ciphertext failed authentication (modified or corrupt)")

	// ErrTruncated means the ciphertext ends before its final chunk.
	ErrTruncated = errors.New("ibe: ciphertext is truncated")

	// ErrTrailingData means data follows the final chunk of the ciphertext.
	ErrTrailingData = errors.New("ibe: data after the end of the ciphertext")

	// ErrInvalidKey means a private key does not verify against the public
	// parameters (it was not extracted by this PKG for this identity).
	ErrInvalidKey = errors.New("ibe: key does not verify against the public parameters")

	// ErrInsecureKeyFile means a secret key file in the data directory is
	// readable or writable by other users; the PKG refuses to load it.
	ErrInsecureKeyFile = errors.New("ibe: secret key file is accessible to other users")
)
