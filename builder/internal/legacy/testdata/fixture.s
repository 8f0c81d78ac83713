# A tiny stand-in installer for the legacy executor's Wine tests (a few KB,
# so that the script's JScript SHA-256 takes no time): it appends its raw
# command line (GetCommandLineW), a tab, its working folder and a line break,
# in UTF-16, to C:\fixstick-test\cmdlines.txt, then exits with CODE (set
# when assembling: as --defsym CODE=3010).
        .intel_syntax noprefix
        .globl start
        .text
start:
        sub rsp, 56
        call [rip + __imp_GetCommandLineW]
        mov rbx, rax
        xor r12, r12
1:      cmp word ptr [rbx + r12*2], 0
        je 2f
        inc r12
        jmp 1b
2:      lea rcx, [rip + dir]
        xor edx, edx
        call [rip + __imp_CreateDirectoryW]
        lea rcx, [rip + logpath]
        mov edx, 4                      # FILE_APPEND_DATA
        mov r8d, 3                      # FILE_SHARE_READ | FILE_SHARE_WRITE
        xor r9d, r9d
        mov qword ptr [rsp + 32], 4     # OPEN_ALWAYS
        mov qword ptr [rsp + 40], 0x80  # FILE_ATTRIBUTE_NORMAL
        mov qword ptr [rsp + 48], 0
        call [rip + __imp_CreateFileW]
        mov r13, rax
        mov rcx, r13
        mov rdx, rbx
        mov r8, r12
        shl r8, 1
        lea r9, [rip + written]
        mov qword ptr [rsp + 32], 0
        call [rip + __imp_WriteFile]
        mov rcx, r13
        lea rdx, [rip + tab]
        mov r8d, 2
        lea r9, [rip + written]
        mov qword ptr [rsp + 32], 0
        call [rip + __imp_WriteFile]
        mov ecx, 1024
        lea rdx, [rip + cwd]
        call [rip + __imp_GetCurrentDirectoryW]
        mov r8, rax
        shl r8, 1
        mov rcx, r13
        lea rdx, [rip + cwd]
        lea r9, [rip + written]
        mov qword ptr [rsp + 32], 0
        call [rip + __imp_WriteFile]
        mov rcx, r13
        lea rdx, [rip + crlf]
        mov r8d, 4
        lea r9, [rip + written]
        mov qword ptr [rsp + 32], 0
        call [rip + __imp_WriteFile]
        mov rcx, r13
        call [rip + __imp_CloseHandle]
        mov ecx, CODE
        call [rip + __imp_ExitProcess]

        .data
        .balign 2
dir:    .short 'C', ':', '\\', 'f', 'i', 'x', 's', 't', 'i', 'c', 'k', '-', 't', 'e', 's', 't', 0
logpath: .short 'C', ':', '\\', 'f', 'i', 'x', 's', 't', 'i', 'c', 'k', '-', 't', 'e', 's', 't', '\\'
        .short 'c', 'm', 'd', 'l', 'i', 'n', 'e', 's', '.', 't', 'x', 't', 0
crlf:   .short 13, 10
tab:    .short 9
        .balign 8
written: .quad 0
        .bss
        .balign 2
cwd:    .space 2048
