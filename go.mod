module github.com/stickypolicy/sticky

go 1.26.8

require (
	github.com/beevik/etree v1.8.1
	github.com/cloudflare/circl v1.6.5
	github.com/gorilla/mux v1.8.1
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/robfig/cron/v3 v3.0.1
)

require (
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
