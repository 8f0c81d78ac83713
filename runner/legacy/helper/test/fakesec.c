/* A fake security layer for tests (make fakesec): it keeps owners and
 * DACLs, which Wine does not (Wine shows file security as Unix mode
 * bits). Its state is a UTF-16 file named by %FIXHELP_FAKESEC%, one
 * entry a line:
 *   wine<TAB>0|1
 *   entry<TAB>PATH<TAB>SDDL<TAB>FLAGS
 * FLAGS holds "sticky" (a set succeeds and changes nothing, as on Wine)
 * and "reparse" (the entry shows as a junction). Entries are objects,
 * found by file index, so a folder moved aside keeps its entry and a new
 * one at its path is new. An object with no entry reads as a new folder
 * made by an administrator: Administrators own it, SYSTEM and
 * Administrators only. Every set writes the state back, with each
 * object's current path, for the test to read. */
#include "../helper.h"

#define MAXE 64

static struct {
	WCHAR path[MAX_PATH], *sddl;
	ULONGLONG id;
	int sticky, reparse;
} ent[MAXE];
static int nent, wine, loaded;
static WCHAR state[MAX_PATH];

static int has(const WCHAR *s, const WCHAR *word)
{
	int n = lstrlenW(word), i;
	for (; *s; s++) {
		for (i = 0; i < n && s[i] == word[i]; i++)
			;
		if (i == n)
			return 1;
	}
	return 0;
}

static ULONGLONG file_id(const WCHAR *path)
{
	BY_HANDLE_FILE_INFORMATION fi;
	ULONGLONG id = 0;
	HANDLE h = CreateFileW(path, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			       OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return 0;
	if (GetFileInformationByHandle(h, &fi))
		id = ((ULONGLONG)fi.nFileIndexHigh << 32 | fi.nFileIndexLow) + 1;
	CloseHandle(h);
	return id;
}

static WCHAR *dup(const WCHAR *s)
{
	WCHAR *d = zalloc((lstrlenW(s) + 1) * sizeof(WCHAR));
	lstrcpyW(d, s);
	return d;
}

static void load(void)
{
	static WCHAR buf[65536];
	WCHAR *p, *f[4];
	DWORD n = 0;
	HANDLE h;
	if (loaded++)
		return;
	GetEnvironmentVariableW(L"FIXHELP_FAKESEC", state, MAX_PATH);
	h = CreateFileW(state, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return;
	ReadFile(h, buf, sizeof buf - 2, &n, NULL);
	CloseHandle(h);
	for (p = buf + (buf[0] == 0xFEFF); *p;) {
		int k = 0;
		f[k++] = p;
		for (; *p && *p != L'\r' && *p != L'\n'; p++)
			if (*p == L'\t' && k < 4)
				*p = 0, f[k++] = p + 1;
		while (*p == L'\r' || *p == L'\n')
			*p++ = 0;
		if (k == 2 && wsame(f[0], L"wine"))
			wine = f[1][0] == L'1';
		if (k == 4 && wsame(f[0], L"entry") && nent < MAXE) {
			lstrcpynW(ent[nent].path, f[1], MAX_PATH);
			ent[nent].sddl = dup(f[2]);
			ent[nent].id = file_id(f[1]);
			ent[nent].sticky = has(f[3], L"sticky");
			ent[nent].reparse = has(f[3], L"reparse");
			nent++;
		}
	}
}

static int find(const WCHAR *path)
{
	ULONGLONG id;
	int i;
	load();
	id = file_id(path);
	for (i = 0; i < nent; i++)
		if (id && ent[i].id == id) {
			lstrcpynW(ent[i].path, path, MAX_PATH);
			return i;
		}
	return -1;
}

static void save(void)
{
	HANDLE h = CreateFileW(state, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
	DWORD n;
	int i;
	for (i = 0; h != INVALID_HANDLE_VALUE && i < nent; i++) {
		WriteFile(h, ent[i].path, lstrlenW(ent[i].path) * 2, &n, NULL);
		WriteFile(h, L"\t", 2, &n, NULL);
		WriteFile(h, ent[i].sddl, lstrlenW(ent[i].sddl) * 2, &n, NULL);
		WriteFile(h, L"\r\n", 4, &n, NULL);
	}
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
}

static DWORD fake_get(const WCHAR *path, PSID *owner, PACL *dacl, BOOL *protected_, PSECURITY_DESCRIPTOR *sd)
{
	int i = find(path);
	BOOL present, defaulted;
	SECURITY_DESCRIPTOR_CONTROL c = 0;
	DWORD rev;
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
		    i >= 0 ? ent[i].sddl : L"O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", SDDL_REVISION_1, sd, NULL))
		return GetLastError();
	GetSecurityDescriptorOwner(*sd, owner, &defaulted);
	GetSecurityDescriptorDacl(*sd, &present, dacl, &defaulted);
	GetSecurityDescriptorControl(*sd, &c, &rev);
	if (!present)
		*dacl = NULL;
	*protected_ = (c & SE_DACL_PROTECTED) != 0;
	return ERROR_SUCCESS;
}

static DWORD fake_set(const WCHAR *path, PSID owner, PACL dacl)
{
	SECURITY_DESCRIPTOR sd;
	WCHAR *s;
	int i = find(path);
	if (i >= 0 && ent[i].sticky)
		return ERROR_SUCCESS;
	InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
	SetSecurityDescriptorOwner(&sd, owner, FALSE);
	SetSecurityDescriptorDacl(&sd, TRUE, dacl, FALSE);
	SetSecurityDescriptorControl(&sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED);
	if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(&sd, SDDL_REVISION_1,
								  OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &s, NULL))
		return GetLastError();
	if (i < 0 && nent < MAXE) {
		i = nent++;
		lstrcpynW(ent[i].path, path, MAX_PATH);
		ent[i].id = file_id(path);
	}
	if (i >= 0)
		ent[i].sddl = dup(s);
	LocalFree(s);
	save();
	return ERROR_SUCCESS;
}

static int fake_wine(void)
{
	load();
	return wine;
}

static DWORD fake_attributes(const WCHAR *path)
{
	DWORD a = GetFileAttributesW(path);
	int i = find(path);
	if (a != INVALID_FILE_ATTRIBUTES && i >= 0 && ent[i].reparse)
		a |= FILE_ATTRIBUTE_REPARSE_POINT;
	return a;
}

struct secops fake_secops = {fake_get, fake_set, fake_wine, fake_attributes};
