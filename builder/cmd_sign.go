package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fixstick/internal/signature"
	"fixstick/payload"
)

// signEnv is the environment variable that gives the secret key's
// password where no one can type it (CI).
const signEnv = "FIXSTICK_SIGN_PASSWORD"

// loadSecretKey reads a minisign secret key file, asking for its password
// on the terminal, or taking it from FIXSTICK_SIGN_PASSWORD.
func loadSecretKey(e *env, path string) (signature.SecretKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return signature.SecretKey{}, fmt.Errorf("--sign: %w", err)
	}
	password := ""
	if signature.IsEncrypted(data) {
		password, err = e.password(fmt.Sprintf("Password for %s: ", path), signEnv)
		if err != nil {
			return signature.SecretKey{}, fmt.Errorf("--sign %s: %w", path, err)
		}
	}
	k, err := signature.ParseSecretKey(data, password)
	if err != nil {
		return k, fmt.Errorf("--sign %s: %w", path, err)
	}
	return k, nil
}

// password returns the value of the environment variable envName when it
// is set, else asks on the terminal. Without either it fails rather than
// wait for input that will never come.
func (e *env) password(prompt, envName string) (string, error) {
	if p := e.getenv(envName); p != "" {
		return p, nil
	}
	if e.readPassword == nil {
		return "", fmt.Errorf("the key is encrypted: type its password on a terminal, or set %s", envName)
	}
	return e.readPassword(prompt)
}

// signers returns pack's lock and zip signing functions for key k. The
// trusted comments are fixed by the bundle (no clock), so a signed bundle
// is as reproducible as an unsigned one.
func signers(k signature.SecretKey) (lock func([]byte, string) ([]byte, error), zip func(string, string) ([]byte, error)) {
	lock = func(data []byte, bundle string) ([]byte, error) {
		return signature.Sign(k, bytes.NewReader(data), "fixstick bundle "+bundle+"\tfile:"+payload.LockName)
	}
	zip = func(path, bundle string) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return signature.Sign(k, f, "fixstick bundle "+bundle+"\tzip")
	}
	return lock, zip
}

func runKeygen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keygen")
	pub := fs.StringP("public", "p", "fixstick.pub", "write the public key to `FILE`")
	sec := fs.StringP("secret", "s", "fixstick.key", "write the secret key to `FILE`")
	noPassword := fs.BoolP("without-password", "W", false, "do not encrypt the secret key (as minisign -G -W)")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder keygen [-p PUBLIC] [-s SECRET] [-W]\n\nMake a minisign key pair for signing bundles (the same files minisign -G makes).\nThe password is asked on the terminal, or taken from %s.\n\n", signEnv)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("keygen takes no arguments")
	}
	for _, p := range []string{*pub, *sec} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists: keygen never overwrites a key", p)
		}
	}
	password := ""
	if !*noPassword {
		var err error
		if password, err = e.password("Password for the new secret key: ", signEnv); err != nil {
			return err
		}
		if password == "" {
			return errors.New("empty password: use -W for a key without one")
		}
		if e.getenv(signEnv) == "" {
			again, err := e.readPassword("Password (again): ")
			if err != nil {
				return err
			}
			if again != password {
				return errors.New("the passwords differ")
			}
		}
	}
	pubData, secData, id, err := signature.GenerateKey(password)
	if err != nil {
		return err
	}
	if err := writeNew(*sec, secData, 0o600); err != nil {
		return err
	}
	if err := writeNew(*pub, pubData, 0o644); err != nil {
		os.Remove(*sec)
		return err
	}
	fmt.Fprintf(e.stdout, "key ID %s\nsecret key %s: keep it offline\npublic key %s: give it to the machines (runner.exe --key, or %%ProgramData%%\\fixstick\\trusted-keys\\)\n", id, *sec, *pub)
	return nil
}

// writeNew writes a file that must not exist yet, synced before it is
// closed.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// readKeys reads the public keys given with --key.
func readKeys(paths []string) ([]signature.PublicKey, error) {
	var keys []signature.PublicKey
	for _, p := range paths {
		k, err := signature.ReadPublicKey(p)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// checkZipSig verifies OUT.zip.minisig against the zip.
func checkZipSig(keys []signature.PublicKey, zipPath string) (signature.Signed, error) {
	sig, err := os.ReadFile(zipPath + signature.Ext)
	if errors.Is(err, os.ErrNotExist) {
		sig = nil
	} else if err != nil {
		return signature.Signed{}, err
	}
	f, err := os.Open(zipPath)
	if err != nil {
		return signature.Signed{}, err
	}
	defer f.Close()
	return signature.VerifyReader(keys, filepath.Base(zipPath), io.Reader(f), sig)
}
