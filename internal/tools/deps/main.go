package main

import (
	_ "github.com/beevik/etree"
	_ "github.com/cloudflare/circl/ecc/bls12381"
	_ "github.com/cloudflare/circl/expander"
	_ "github.com/gorilla/mux"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/robfig/cron/v3"
)

func main() {}
