/* Entry point, the request and response files, and the few string
 * functions the helper needs (it has no C runtime). */
#include "helper.h"

#ifdef FIXHELP_FAKESEC
struct secops *g_sec = &fake_secops;
#else
struct secops *g_sec = &real_secops;
#endif
const WCHAR *g_respath;
static HANDLE g_res = INVALID_HANDLE_VALUE;
static WCHAR *g_req; /* the request text; records are cut from it */

/* The compiler may call these for struct copies and zeroing. */
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

void *zalloc(SIZE_T n) { return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, n); }
void zfree(void *p)
{
	if (p)
		HeapFree(GetProcessHeap(), 0, p);
}

WCHAR *wcat(WCHAR *d, const WCHAR *s)
{
	WCHAR *p = d + lstrlenW(d);
	while (*s && p - d < PATHCAP - 1)
		*p++ = *s++;
	*p = 0;
	return d;
}

WCHAR *wnum(WCHAR *d, unsigned long long v)
{
	WCHAR t[24];
	int i = 23;
	t[i] = 0;
	do {
		t[--i] = (WCHAR)(L'0' + v % 10);
		v /= 10;
	} while (v);
	return wcat(d, t + i);
}

unsigned long long wparse(const WCHAR *s, int *ok)
{
	unsigned long long v = 0;
	*ok = *s != 0;
	for (; *s; s++) {
		if (*s < L'0' || *s > L'9' || v > 0x1999999999999998ull)
			*ok = 0;
		v = v * 10 + (*s - L'0');
	}
	return v;
}

/* wsame compares as Windows compares file names: ordinal, ignoring case
 * (CompareStringOrdinal is Vista and later; CharUpper is user32). */
int wsame(const WCHAR *a, const WCHAR *b)
{
	for (;; a++, b++) {
		WCHAR x = *a, y = *b;
		if (x >= L'a' && x <= L'z')
			x -= 32;
		if (y >= L'a' && y <= L'z')
			y -= 32;
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

static void put(const WCHAR *s)
{
	DWORD n;
	if (g_res != INVALID_HANDLE_VALUE)
		WriteFile(g_res, s, lstrlenW(s) * sizeof(WCHAR), &n, NULL);
}

void reply(const WCHAR *first, ...)
{
	va_list ap;
	const WCHAR *s;
	put(first);
	va_start(ap, first);
	while ((s = va_arg(ap, const WCHAR *)) != NULL) {
		WCHAR tab[2] = {L'\t', 0};
		WCHAR *c, *p;
		put(tab);
		/* a field never holds a line break or tab: that would forge a record */
		c = zalloc((lstrlenW(s) + 1) * sizeof(WCHAR));
		if (!c)
			break;
		lstrcpyW(c, s);
		for (p = c; *p; p++)
			if (*p == L'\t' || *p == L'\r' || *p == L'\n')
				*p = L' ';
		put(c);
		zfree(c);
	}
	va_end(ap);
	put(L"\r\n");
}

void fail_reply(const WCHAR *what, DWORD err)
{
	WCHAR *msg = NULL, code[40] = L"error ";
	FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
		       err, 0, (WCHAR *)&msg, 0, NULL);
	wnum(code, err);
	if (msg) {
		WCHAR *p;
		for (p = msg; *p; p++)
			if (*p == L'\r' || *p == L'\n')
				*p = L' ';
	}
	reply(L"error", what, msg ? msg : L"", code, NULL);
	if (msg)
		LocalFree(msg);
}

/* load reads the request: UTF-16LE, a byte order mark or not. */
static int load(const WCHAR *path)
{
	HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
	DWORD size, got;
	if (h == INVALID_HANDLE_VALUE)
		return 0;
	size = GetFileSize(h, NULL);
	if (size == INVALID_FILE_SIZE || size > (1u << 24) || !(g_req = zalloc(size + 2 * sizeof(WCHAR))) ||
	    !ReadFile(h, g_req, size, &got, NULL) || got != size) {
		CloseHandle(h);
		return 0;
	}
	CloseHandle(h);
	if (g_req[0] == 0xFEFF)
		g_req++;
	return 1;
}

int next_record(Record *r)
{
	WCHAR *p = g_req, *end;
	r->n = 0;
	if (!p)
		return 0;
	while (*p == L'\r' || *p == L'\n')
		p++;
	if (!*p) {
		g_req = NULL;
		return 0;
	}
	for (end = p; *end && *end != L'\r' && *end != L'\n'; end++)
		;
	g_req = *end ? end + 1 : NULL;
	*end = 0;
	r->f[r->n++] = p;
	for (; *p; p++)
		if (*p == L'\t' && r->n < MAXFIELDS) {
			*p = 0;
			r->f[r->n++] = p + 1;
		}
	return 1;
}

static const struct {
	const WCHAR *name;
	int (*fn)(void);
} commands[] = {
	{L"sha256", cmd_sha256},   {L"copy", cmd_copy}, {L"takeover", cmd_takeover},
	{L"run", cmd_run},         {L"writeback", cmd_writeback}, {L"appdata", cmd_appdata},
};

static int helper_main(void)
{
	int argc, i;
	Record cmd;
	WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
	if (!argv || argc != 3)
		return EXIT_USAGE;
	g_respath = argv[2];
	g_res = CreateFileW(argv[2], GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS, 0, NULL);
	if (g_res == INVALID_HANDLE_VALUE)
		return EXIT_USAGE;
	put(L"\xFEFF");
	if (!load(argv[1]) || !next_record(&cmd)) {
		reply(L"error", L"cannot read the request", argv[1], NULL);
		return EXIT_USAGE;
	}
	for (i = 0; i < (int)(sizeof commands / sizeof commands[0]); i++)
		if (wsame(cmd.f[0], commands[i].name))
			return commands[i].fn();
	reply(L"error", L"unknown command", cmd.f[0], NULL);
	return EXIT_USAGE;
}

/* mainCRTStartup is the linker's default entry point for a console
 * program; without a C runtime it is ours. */
void mainCRTStartup(void)
{
	/* no "insert the disk" boxes for an empty drive */
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
	ExitProcess((UINT)helper_main());
}
