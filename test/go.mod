module github.com/wsloop/websocket/test

go 1.26.8

require (
	github.com/gobwas/ws v1.5.0
	github.com/wsloop/websocket v0.0.0
)

require github.com/gobwas/httphead v0.1.0 // indirect

// The tests run against the library in the parent directory, not a release.
replace github.com/wsloop/websocket => ../
