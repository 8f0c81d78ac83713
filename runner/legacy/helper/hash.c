/* SHA-256 through CryptoAPI (PROV_RSA_AES with CALG_SHA_256, which XP
 * has from SP3 on), and the checked copy: each file is read once, hashed
 * while it is written to a temporary name beside its place, and moved
 * into place only when its size and SHA-256 are the lock's. */
#include "helper.h"

#define CHUNK (1u << 20)

static HCRYPTPROV prov;

int sha_available(void)
{
	HCRYPTHASH h;
	if (!prov && !CryptAcquireContextW(&prov, NULL, NULL, PROV_RSA_AES, CRYPT_VERIFYCONTEXT | CRYPT_SILENT))
		return 0;
	if (!CryptCreateHash(prov, CALG_SHA_256, 0, 0, &h))
		return 0;
	CryptDestroyHash(h);
	return 1;
}

static void hexof(HCRYPTHASH h, WCHAR *hex)
{
	BYTE sum[32];
	DWORD n = sizeof sum, i;
	CryptGetHashParam(h, HP_HASHVAL, sum, &n, 0);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = L"0123456789abcdef"[sum[i] >> 4];
		hex[2 * i + 1] = L"0123456789abcdef"[sum[i] & 15];
	}
	hex[64] = 0;
}

/* pump reads in from its start to the end, hashing, and writes to out
 * when out is not NULL. */
static int pump(HANDLE in, HANDLE out, WCHAR *hex, unsigned long long *size, DWORD *err)
{
	static BYTE *buf;
	HCRYPTHASH h;
	DWORD got, put;
	LARGE_INTEGER zero = {0};
	*size = 0;
	if (!buf && !(buf = VirtualAlloc(NULL, CHUNK, MEM_COMMIT, PAGE_READWRITE)))
		return *err = GetLastError(), 0;
	if (!SetFilePointerEx(in, zero, NULL, FILE_BEGIN) || !CryptCreateHash(prov, CALG_SHA_256, 0, 0, &h))
		return *err = GetLastError(), 0;
	for (;;) {
		if (!ReadFile(in, buf, CHUNK, &got, NULL)) {
			*err = GetLastError();
			break;
		}
		if (got == 0) {
			hexof(h, hex);
			CryptDestroyHash(h);
			return 1;
		}
		if (!CryptHashData(h, buf, got, 0) || (out && (!WriteFile(out, buf, got, &put, NULL) || put != got))) {
			*err = GetLastError();
			break;
		}
		*size += got;
	}
	CryptDestroyHash(h);
	return 0;
}

int hash_handle(HANDLE h, WCHAR *hex, unsigned long long *size, DWORD *err)
{
	return pump(h, NULL, hex, size, err);
}

/* sha256: records "file<TAB>PATH"; answers "sha256 HEX SIZE MS PATH". */
int cmd_sha256(void)
{
	Record r;
	int rc = EXIT_DONE;
	if (!sha_available()) {
		reply(L"no-sha256", NULL);
		return EXIT_NO_SHA256;
	}
	while (next_record(&r)) {
		WCHAR hex[SHA_HEX], size[24] = L"", ms[24] = L"";
		unsigned long long n;
		DWORD err, t0 = GetTickCount();
		HANDLE h;
		if (r.n != 2 || !wsame(r.f[0], L"file"))
			return EXIT_USAGE;
		h = CreateFileW(r.f[1], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
		if (h == INVALID_HANDLE_VALUE || !hash_handle(h, hex, &n, &err)) {
			fail_reply(r.f[1], h == INVALID_HANDLE_VALUE ? GetLastError() : err);
			rc = EXIT_FAILED;
		} else {
			wnum(size, n);
			wnum(ms, GetTickCount() - t0);
			reply(L"sha256", hex, size, ms, r.f[1], NULL);
		}
		if (h != INVALID_HANDLE_VALUE)
			CloseHandle(h);
	}
	return rc;
}

/* make_parents creates the folders above path that are missing. */
static void make_parents(WCHAR *path)
{
	WCHAR *p;
	for (p = path + 3; *p; p++)
		if (*p == L'\\') {
			*p = 0;
			CreateDirectoryW(path, NULL);
			*p = L'\\';
		}
}

/* copy_one copies src to dst through a new temporary name, and returns
 * "" or why not (in why). */
static int copy_one(const WCHAR *src, const WCHAR *dst, const WCHAR *want, unsigned long long wsize, WCHAR *why)
{
	static WCHAR tmp[PATHCAP];
	WCHAR hex[SHA_HEX];
	unsigned long long n;
	DWORD err = 0;
	HANDLE in, out;
	int ok;
	in = CreateFileW(src, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
	if (in == INVALID_HANDLE_VALUE) {
		err = GetLastError();
		wcat(why, err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND ? L"missing" : L"cannot be read");
		return 0;
	}
	tmp[0] = 0;
	wcat(wcat(tmp, dst), L".part");
	make_parents(tmp);
	DeleteFileW(tmp);
	/* CREATE_NEW: never into a file or link someone left there */
	out = CreateFileW(tmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
	if (out == INVALID_HANDLE_VALUE) {
		CloseHandle(in);
		wcat(why, L"cannot write the private copy");
		return 0;
	}
	ok = pump(in, out, hex, &n, &err) && FlushFileBuffers(out);
	CloseHandle(in);
	CloseHandle(out);
	if (!ok)
		wcat(why, L"reading or writing failed");
	else if (n != wsize)
		wnum(wcat(wnum(wcat(why, L"size "), n), L", the lock says "), wsize);
	else if (!wsame(hex, want))
		wcat(wcat(wcat(wcat(why, L"sha256 "), hex), L", the lock says "), want);
	else if (!MoveFileExW(tmp, dst, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
		wcat(why, L"cannot move the checked copy into place");
	else
		return 1;
	DeleteFileW(tmp);
	return 0;
}

/* copy: records "SRC<TAB>DST<TAB>SHA256<TAB>SIZE"; answers "ok DST" or
 * "bad DST WHY" for each; every file is tried. */
int cmd_copy(void)
{
	static WCHAR why[PATHCAP];
	Record r;
	int rc = EXIT_DONE, ok;
	if (!sha_available()) {
		reply(L"no-sha256", NULL);
		return EXIT_NO_SHA256;
	}
	while (next_record(&r)) {
		unsigned long long size;
		if (r.n != 4 || lstrlenW(r.f[2]) != 64)
			return EXIT_USAGE;
		size = wparse(r.f[3], &ok);
		if (!ok)
			return EXIT_USAGE;
		why[0] = 0;
		if (copy_one(r.f[0], r.f[1], r.f[2], size, why)) {
			reply(L"ok", r.f[1], NULL);
		} else {
			reply(L"bad", r.f[1], why, NULL);
			rc = EXIT_FAILED;
		}
	}
	return rc;
}
