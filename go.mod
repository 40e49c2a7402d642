module github.com/stickypolicy/sticky

go 1.26.8

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/cloudflare/circl v1.6.5 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
)
