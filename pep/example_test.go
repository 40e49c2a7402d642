package pep_test

import (
	"bytes"
	"fmt"

	"github.com/stickypolicy/sticky/pep"
)

func ExampleNewToken() {
	// In production the reader is crypto/rand.Reader.
	tok, hash, err := pep.NewToken(bytes.NewReader(make([]byte, 32)))
	if err != nil {
		panic(err)
	}
	fmt.Println(tok)
	fmt.Println(hash == pep.HashToken(tok))
	// Output:
	// sticky_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
	// true
}

func ExampleParseRole() {
	for _, s := range []string{"controller", "boss"} {
		r, err := pep.ParseRole(s)
		fmt.Printf("%q %v\n", r, err)
	}
	// Output:
	// "controller" <nil>
	// "" invalid input: unknown role "boss" (want subject, controller or admin)
}
