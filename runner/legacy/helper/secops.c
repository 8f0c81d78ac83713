/* The real security calls behind struct secops (secure.c). */
#include "helper.h"

/* An administrator may always make Administrators the owner, even of a
 * folder whose DACL shuts Administrators out, with these privileges. */
static void enable_privileges(void)
{
	static int done;
	static const WCHAR *names[] = {L"SeTakeOwnershipPrivilege", L"SeRestorePrivilege"};
	HANDLE tok;
	int i;
	if (done++ || !OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &tok))
		return;
	for (i = 0; i < 2; i++) {
		TOKEN_PRIVILEGES tp;
		tp.PrivilegeCount = 1;
		if (LookupPrivilegeValueW(NULL, names[i], &tp.Privileges[0].Luid)) {
			tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
			AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL);
		}
	}
	CloseHandle(tok);
}

static DWORD real_get(const WCHAR *path, PSID *owner, PACL *dacl, BOOL *protected_, PSECURITY_DESCRIPTOR *sd)
{
	SECURITY_DESCRIPTOR_CONTROL c = 0;
	DWORD rev, err;
	*sd = NULL;
	err = GetNamedSecurityInfoW((WCHAR *)path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
				    owner, NULL, dacl, NULL, sd);
	if (err == ERROR_SUCCESS && !GetSecurityDescriptorControl(*sd, &c, &rev))
		err = GetLastError();
	*protected_ = (c & SE_DACL_PROTECTED) != 0;
	return err;
}

static DWORD real_set(const WCHAR *path, PSID owner, PACL dacl)
{
	enable_privileges();
	return SetNamedSecurityInfoW((WCHAR *)path, SE_FILE_OBJECT,
				     OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
				     owner, NULL, dacl, NULL);
}

/* real_wine: Wine's ntdll exports wine_get_version; Windows' never does.
 * The same test as runner.exe's underWine (runner/internal/winsys). */
static int real_wine(void)
{
	HMODULE nt = GetModuleHandleW(L"ntdll.dll");
	return nt && GetProcAddress(nt, "wine_get_version") != NULL;
}

static DWORD real_attributes(const WCHAR *path) { return GetFileAttributesW(path); }

struct secops real_secops = {real_get, real_set, real_wine, real_attributes};
