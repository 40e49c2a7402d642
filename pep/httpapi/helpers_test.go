package httpapi_test

import "github.com/stickypolicy/sticky/pep/httpapi"

func httpapiMaxBody(n int64) httpapi.Option { return httpapi.WithMaxBodyBytes(n) }
