// SPDX-License-Identifier: MIT
// hello.go: the HTTP peer on Go's net/http, serving what examples/http_hello.c serves at "/".
// Prints its port, then serves.
package main

import (
	"fmt"
	"net"
	"net/http"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, World!\n"))
	})
	http.Serve(l, nil)
}
