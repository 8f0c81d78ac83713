package main

import (
	"context"
	"fmt"
	"os"

	"fixstick/builder/internal/pack"
	"fixstick/internal/signature"
	"fixstick/payload"
)

// runVerify checks a bundle, zip or folder, against its lock and prints
// every difference. Exit status 0 only when the bundle is exact.
func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify")
	keyFiles := fs.StringArray("key", nil, "require the lock (and a zip's ZIP.minisig, when present) to be signed by the minisign public key `FILE` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder verify [--key PUBLIC_KEY]... BUNDLE\n\nCheck a bundle (zip or folder) against its bundle.lock.json: every file's size and\nSHA-256, no file the lock does not list (reports/ aside), the lock unedited;\na zip also against ZIP.sha256 when that file is beside it. With --key, the\nlock's signature (bundle.lock.json.minisig) must be good and made by that key,\nand so must a zip's ZIP.minisig when it is beside the zip.\nExit status 0: exact; 1: something differs.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify needs exactly one bundle (zip or folder)")
	}
	path := fs.Arg(0)
	keys, err := readKeys(*keyFiles)
	if err != nil {
		return err
	}
	r, err := pack.Verify(path)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", path, err)
	}
	signedBy := checkSignatures(r, path, keys)
	if !r.OK() {
		for _, p := range r.Problems {
			fmt.Fprintf(e.stderr, "%s: %s\n", path, p)
		}
		what := "differences"
		if len(r.Problems) == 1 {
			what = "difference"
		}
		fmt.Fprintf(e.stderr, "builder: error: %s does not match its lock (%d %s)\n", path, len(r.Problems), what)
		return &invalidError{fmt.Errorf("%s does not match its lock", path)}
	}
	fmt.Fprintf(e.stdout, "%s: ok: bundle %s, %d files match the lock%s\n", path, r.Lock.Bundle, r.Files+1, signedBy)
	return nil
}

// checkSignatures adds to r what is wrong with the bundle's signatures
// when keys are given, and returns what to say about them when all is
// well. Without keys nothing is checked, and the output says so.
func checkSignatures(r *pack.Report, path string, keys []signature.PublicKey) string {
	if r.LockJSON == nil {
		return ""
	}
	if len(keys) == 0 {
		if r.LockSig == nil {
			return "; not signed"
		}
		id, err := signature.SignerKeyID(r.LockSig)
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", payload.LockSigName, err))
			return ""
		}
		return fmt.Sprintf("; signed by key ID %s, NOT checked (give --key PUBLIC_KEY)", id)
	}
	s, err := signature.Verify(keys, payload.LockName, r.LockJSON, r.LockSig)
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
		return ""
	}
	out := fmt.Sprintf("; lock signed by key ID %s", s.KeyID)
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		if _, err := os.Lstat(path + signature.Ext); err == nil {
			zs, err := checkZipSig(keys, path)
			if err != nil {
				r.Problems = append(r.Problems, err.Error())
				return ""
			}
			out += fmt.Sprintf(", zip signed by key ID %s", zs.KeyID)
		}
	}
	return out
}
