/* fixhelp: the native helper of the legacy executor (Windows XP SP3 to
 * 8.1). engine.js calls it for everything that needs the Windows API:
 *   fixhelp.exe REQUEST RESPONSE
 * REQUEST is a UTF-16 text file (engine.js writes it with
 * FileSystemObject): the command on the first line, then one record a
 * line, fields separated by tabs. Paths and command lines never pass
 * through a command line, where Windows Script Host would expand
 * %VARIABLES% and quoting would change them. RESPONSE gets one record a
 * line, UTF-16 with a byte order mark, written as the work goes.
 * The exit status is 0 (done), 1 (refused or failed, said in RESPONSE),
 * 2 (usage) or 3 (CryptoAPI has no SHA-256 here: XP before SP3).
 *
 * Only kernel32, advapi32 and shell32 are imported, and no C runtime.
 * Each file holds one concern:
 *   main.c     entry point, requests and responses, small string helpers
 *   hash.c     SHA-256 with CryptoAPI; the checked copy
 *   secure.c   taking over the private folder, by SID
 *   secops.c   the real security calls behind struct secops
 *   run.c      running one program in a job object, with a heartbeat
 *   report.c   writing reports back to the stick
 */
#ifndef FIXHELP_H
#define FIXHELP_H

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <shlobj.h>
#include <shellapi.h>
#include <stdarg.h>

#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_NO_SHA256 3

#define MAXFIELDS 8
#define PATHCAP 32768 /* characters, the longest \\?\ path */

/* main.c: the request, the response, strings */
typedef struct {
	WCHAR *f[MAXFIELDS];
	int n;
} Record;
int next_record(Record *r);                    /* 0 at the end of the request */
void reply(const WCHAR *first, ...);           /* fields, then NULL: one response line */
void fail_reply(const WCHAR *what, DWORD err); /* "error\t<what>: <error text> (code)" */
WCHAR *wcat(WCHAR *d, const WCHAR *s);         /* appends s; returns d */
WCHAR *wnum(WCHAR *d, unsigned long long v);   /* appends v in decimal */
int wsame(const WCHAR *a, const WCHAR *b);     /* equal, ignoring case (ordinal) */
unsigned long long wparse(const WCHAR *s, int *ok);
void *zalloc(SIZE_T n);
void zfree(void *p);
extern const WCHAR *g_respath; /* the response file: log lines go to the log named in a request */

/* hash.c */
#define SHA_HEX 65
int sha_available(void);
/* hash_handle hashes an open file from its start; hex gets 64 digits. */
int hash_handle(HANDLE h, WCHAR *hex, unsigned long long *size, DWORD *err);
int cmd_sha256(void);
int cmd_copy(void);

/* secure.c, through secops (secops.c has the real calls; a test build
 * links a fake that keeps owners and DACLs, since Wine keeps neither). */
struct secops {
	/* get returns the owner and DACL of path (LocalFree *sd) */
	DWORD (*get)(const WCHAR *path, PSID *owner, PACL *dacl, BOOL *protected_, PSECURITY_DESCRIPTOR *sd);
	/* set gives path the owner and a protected DACL */
	DWORD (*set)(const WCHAR *path, PSID owner, PACL dacl);
	/* wine is nonzero under Wine, where file security is Unix mode bits */
	int (*wine)(void);
	/* attributes is GetFileAttributesW: a test marks reparse points with it */
	DWORD (*attributes)(const WCHAR *path);
};
extern struct secops *g_sec;
extern struct secops real_secops;
#ifdef FIXHELP_FAKESEC
extern struct secops fake_secops; /* test/fakesec.c */
#endif
int take_over(const WCHAR *root, const WCHAR *bundle, const WCHAR *keep_dir, WCHAR **keep, int nkeep);
int cmd_takeover(void);
int cmd_appdata(void);

/* run.c */
int cmd_run(void);

/* report.c */
int cmd_writeback(void);

#endif
