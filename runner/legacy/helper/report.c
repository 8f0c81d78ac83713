/* Writing reports back to the stick: only into the folder the run
 * started from, only while it holds the same lock bytes as the private
 * copy, never through a junction or link, and never by making that folder
 * again when it has gone. Every folder on the way is opened without
 * FILE_SHARE_DELETE and held while the files are written, so none can be
 * renamed and swapped for a junction in between. */
#include "helper.h"

#define MAXDEPTH 96
#define MAXLOCK (1 << 20) /* payload.MaxLockSize */

static HANDLE held[MAXDEPTH];
static int nheld;

/* hold opens folder path and keeps it open; 0 when it is missing, not a
 * folder, or a reparse point. */
static int hold(const WCHAR *path)
{
	BY_HANDLE_FILE_INFORMATION fi;
	HANDLE h;
	if (nheld == MAXDEPTH)
		return 0;
	h = CreateFileW(path, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
			FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return 0;
	held[nheld++] = h;
	return GetFileInformationByHandle(h, &fi) && (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
	       !((fi.dwFileAttributes | g_sec->attributes(path)) & FILE_ATTRIBUTE_REPARSE_POINT);
}

/* hold_path holds every folder from the drive's root down to path. */
static int hold_path(const WCHAR *path)
{
	static WCHAR p[PATHCAP];
	int i, n = lstrlenW(path);
	if (n < 3 || path[1] != L':' || path[2] != L'\\')
		return 0; /* a drive letter path, as the executor's origin always is */
	p[0] = 0;
	wcat(p, path);
	for (i = 3; i <= n; i++)
		if (i == n || p[i] == L'\\') {
			WCHAR c = p[i];
			p[i] = 0;
			if (!hold(p))
				return 0;
			p[i] = c;
		}
	return 1;
}

/* read_small reads a file of at most MAXLOCK bytes; *n gets its size. */
static BYTE *read_small(const WCHAR *path, DWORD *n)
{
	HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	BYTE *b = NULL;
	DWORD size;
	if (h == INVALID_HANDLE_VALUE)
		return NULL;
	size = GetFileSize(h, NULL);
	if (size <= MAXLOCK && (b = zalloc(size + 1)) && (!ReadFile(h, b, size, n, NULL) || *n != size)) {
		zfree(b);
		b = NULL;
	}
	CloseHandle(h);
	return b;
}

static int same_lock(const WCHAR *a, const WCHAR *b)
{
	DWORD na, nb, i;
	BYTE *x = read_small(a, &na), *y = read_small(b, &nb);
	int same = x && y && na == nb;
	for (i = 0; same && i < na; i++)
		same = x[i] == y[i];
	zfree(x);
	zfree(y);
	return same;
}

/* put_file copies src to dir\name through a new temporary file. */
static int put_file(const WCHAR *src, const WCHAR *dir, const WCHAR *name)
{
	static WCHAR dst[PATHCAP], tmp[PATHCAP];
	static BYTE buf[65536];
	HANDLE in, out;
	DWORD got, put;
	int ok = 1;
	dst[0] = tmp[0] = 0;
	wcat(wcat(wcat(dst, dir), L"\\"), name);
	wnum(wcat(wcat(tmp, dst), L".tmp-"), GetTickCount());
	in = CreateFileW(src, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	if (in == INVALID_HANDLE_VALUE)
		return 0;
	out = CreateFileW(tmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
	if (out == INVALID_HANDLE_VALUE) {
		CloseHandle(in);
		return 0;
	}
	while (ok && ReadFile(in, buf, sizeof buf, &got, NULL) && got > 0)
		ok = WriteFile(out, buf, got, &put, NULL) && put == got;
	ok = ok && FlushFileBuffers(out);
	CloseHandle(in);
	CloseHandle(out);
	/* MoveFileEx replaces a link at dst, never what it points to */
	if (ok && MoveFileExW(tmp, dst, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		reply(L"wrote", dst, NULL);
		return 1;
	}
	DeleteFileW(tmp);
	return 0;
}

/* writeback: records "origin PATH", "lock PRIVATE-LOCK", "folder NAME"
 * (the computer's folder under reports\), then "file SOURCE NAME" for
 * each file; answers "wrote" records, or "refused WHY". */
int cmd_writeback(void)
{
	static WCHAR stick_lock[PATHCAP], dir[PATHCAP];
	static WCHAR *files[16][2];
	WCHAR *origin = NULL, *lock = NULL, *folder = NULL;
	Record r;
	int n = 0, i, rc = EXIT_DONE;
	const WCHAR *why = NULL;
	while (next_record(&r)) {
		if (r.n == 2 && wsame(r.f[0], L"origin"))
			origin = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"lock"))
			lock = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"folder"))
			folder = r.f[1];
		else if (r.n == 3 && wsame(r.f[0], L"file") && n < 16)
			files[n][0] = r.f[1], files[n++][1] = r.f[2];
		else
			return EXIT_USAGE;
	}
	if (!origin || !lock || !folder || !*folder)
		return EXIT_USAGE;
	stick_lock[0] = dir[0] = 0;
	wcat(wcat(stick_lock, origin), L"\\bundle.lock.json");
	wcat(wcat(dir, origin), L"\\reports");
	if (!hold_path(origin))
		why = L"the folder the run started from is gone, or it or a folder above it is a junction or link";
	else if (!same_lock(stick_lock, lock))
		why = L"the folder the run started from no longer holds this bundle's bundle.lock.json";
	else if ((CreateDirectoryW(dir, NULL), !hold(dir)))
		why = L"its reports folder cannot be made, or is a junction or link";
	else if ((wcat(wcat(dir, L"\\"), folder), CreateDirectoryW(dir, NULL), !hold(dir)))
		why = L"the computer's reports folder cannot be made, or is a junction or link";
	if (why) {
		reply(L"refused", why, NULL);
		rc = EXIT_FAILED;
	}
	for (i = 0; !why && i < n; i++)
		if (!put_file(files[i][0], dir, files[i][1])) {
			fail_reply(files[i][1], GetLastError());
			rc = EXIT_FAILED;
		}
	for (i = 0; i < nheld; i++)
		CloseHandle(held[i]);
	return rc;
}
