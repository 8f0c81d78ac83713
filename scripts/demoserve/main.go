// Command demoserve serves the demo bundle's payloads (manifests/demo.yaml)
// on a local address, so that `make demo` builds a bundle with no network.
// It is not part of the builder.
//
// The payloads are made here, byte for byte the same on every run, so that
// the pins in demo.yaml hold: a stand-in installer, and a zip holding a
// stand-in cleanup tool (the zip itself is unpinned, like the real cleanup
// tool's, and its entry is pinned).
package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18437", "listen on `ADDR` (demo.yaml names this one)")
	sums := flag.Bool("sums", false, "print the payloads' SHA-256 and exit")
	flag.Parse()

	files := payloads()
	if *sums {
		for _, n := range []string{"demo-setup.exe", "cleanup_tool.exe"} {
			fmt.Printf("%x  %d  %s\n", sha256.Sum256(files[n]), len(files[n]), n)
		}
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "ready" {
			return
		}
		b, ok := files[name]
		if !ok || name == "cleanup_tool.exe" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
	log.SetFlags(0)
	log.Printf("demoserve: serving the demo payloads at http://%s/", *addr)
	if err := http.ListenAndServe(*addr, mux); err != nil {
		fmt.Fprintf(os.Stderr, "demoserve: %v\n", err)
		os.Exit(1)
	}
}

// payloads makes the demo files. A stand-in program is text after "MZ": it
// is never run here, only fetched, checked and packed.
func payloads() map[string][]byte {
	setup := []byte("MZ fixstick demo installer: a stand-in for a vendor's setup.exe\r\n" + strings.Repeat("padding ", 4096) + "\r\n")
	tool := []byte("MZ fixstick demo cleanup tool: a stand-in for cleanup_tool.exe\r\n")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"cleanup_tool.exe", tool},
		{"readme.txt", []byte("The demo cleanup tool. Only cleanup_tool.exe is taken out of this zip.\r\n")},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(2012, 8, 3, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			panic(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return map[string][]byte{"demo-setup.exe": setup, "cleanup_tool.exe": tool, "demo-tools.zip": zb.Bytes()}
}
