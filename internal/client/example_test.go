package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/stickypolicy/sticky/internal/client"
)

// Example stores a record as its data subject and reads it back as a
// delegate for a declared purpose, telling a denial from a failure.
func Example() {
	ctx := context.Background()
	policy, err := os.ReadFile("examples/alice-policy.xml")
	if err != nil {
		log.Fatal(err)
	}
	alice, err := client.New(os.Getenv("STICKY_URL"), os.Getenv("ALICE_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := alice.Store(ctx, client.StoreRequest{Data: strings.NewReader("12 Rabbit Hole Lane"), ContentType: "text/plain", Policy: policy})
	if err != nil {
		log.Fatal(err)
	}

	bob, _ := client.New(os.Getenv("STICKY_URL"), os.Getenv("BOB_TOKEN"))
	obj, err := bob.Get(ctx, st.ID, "https://w3id.org/dpv#ServiceProvision")
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && errors.Is(err, client.ErrForbidden):
		fmt.Println("denied:", ce.Reason)
	case err != nil:
		log.Fatal(err)
	default:
		defer obj.Body.Close()
		io.Copy(os.Stdout, obj.Body)
	}
}
