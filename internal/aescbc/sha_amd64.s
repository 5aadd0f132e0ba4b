//go:build amd64 && !purego

#include "textflag.h"

// AES-128-CBC encryption stitched with SHA-256 (SHA-NI) over the buffer
// being encrypted: both are chains of dependent instructions, on different
// units of the CPU, so one loop doing both lets them overlap where two
// passes add up. Each iteration encrypts a 64-byte chunk (four blocks, as
// encryptCBC in aescbc_amd64.s does, round keys 1-9 from memory) between
// the quarters of one SHA-256 block; the SHA rounds and their constants are
// the standard library's blockSHANI (crypto/internal/fips140/sha256),
// split in four.

DATA sealK256<>+0(SB)/4, $0x428a2f98
DATA sealK256<>+4(SB)/4, $0x71374491
DATA sealK256<>+8(SB)/4, $0xb5c0fbcf
DATA sealK256<>+12(SB)/4, $0xe9b5dba5
DATA sealK256<>+16(SB)/4, $0x428a2f98
DATA sealK256<>+20(SB)/4, $0x71374491
DATA sealK256<>+24(SB)/4, $0xb5c0fbcf
DATA sealK256<>+28(SB)/4, $0xe9b5dba5
DATA sealK256<>+32(SB)/4, $0x3956c25b
DATA sealK256<>+36(SB)/4, $0x59f111f1
DATA sealK256<>+40(SB)/4, $0x923f82a4
DATA sealK256<>+44(SB)/4, $0xab1c5ed5
DATA sealK256<>+48(SB)/4, $0x3956c25b
DATA sealK256<>+52(SB)/4, $0x59f111f1
DATA sealK256<>+56(SB)/4, $0x923f82a4
DATA sealK256<>+60(SB)/4, $0xab1c5ed5
DATA sealK256<>+64(SB)/4, $0xd807aa98
DATA sealK256<>+68(SB)/4, $0x12835b01
DATA sealK256<>+72(SB)/4, $0x243185be
DATA sealK256<>+76(SB)/4, $0x550c7dc3
DATA sealK256<>+80(SB)/4, $0xd807aa98
DATA sealK256<>+84(SB)/4, $0x12835b01
DATA sealK256<>+88(SB)/4, $0x243185be
DATA sealK256<>+92(SB)/4, $0x550c7dc3
DATA sealK256<>+96(SB)/4, $0x72be5d74
DATA sealK256<>+100(SB)/4, $0x80deb1fe
DATA sealK256<>+104(SB)/4, $0x9bdc06a7
DATA sealK256<>+108(SB)/4, $0xc19bf174
DATA sealK256<>+112(SB)/4, $0x72be5d74
DATA sealK256<>+116(SB)/4, $0x80deb1fe
DATA sealK256<>+120(SB)/4, $0x9bdc06a7
DATA sealK256<>+124(SB)/4, $0xc19bf174
DATA sealK256<>+128(SB)/4, $0xe49b69c1
DATA sealK256<>+132(SB)/4, $0xefbe4786
DATA sealK256<>+136(SB)/4, $0x0fc19dc6
DATA sealK256<>+140(SB)/4, $0x240ca1cc
DATA sealK256<>+144(SB)/4, $0xe49b69c1
DATA sealK256<>+148(SB)/4, $0xefbe4786
DATA sealK256<>+152(SB)/4, $0x0fc19dc6
DATA sealK256<>+156(SB)/4, $0x240ca1cc
DATA sealK256<>+160(SB)/4, $0x2de92c6f
DATA sealK256<>+164(SB)/4, $0x4a7484aa
DATA sealK256<>+168(SB)/4, $0x5cb0a9dc
DATA sealK256<>+172(SB)/4, $0x76f988da
DATA sealK256<>+176(SB)/4, $0x2de92c6f
DATA sealK256<>+180(SB)/4, $0x4a7484aa
DATA sealK256<>+184(SB)/4, $0x5cb0a9dc
DATA sealK256<>+188(SB)/4, $0x76f988da
DATA sealK256<>+192(SB)/4, $0x983e5152
DATA sealK256<>+196(SB)/4, $0xa831c66d
DATA sealK256<>+200(SB)/4, $0xb00327c8
DATA sealK256<>+204(SB)/4, $0xbf597fc7
DATA sealK256<>+208(SB)/4, $0x983e5152
DATA sealK256<>+212(SB)/4, $0xa831c66d
DATA sealK256<>+216(SB)/4, $0xb00327c8
DATA sealK256<>+220(SB)/4, $0xbf597fc7
DATA sealK256<>+224(SB)/4, $0xc6e00bf3
DATA sealK256<>+228(SB)/4, $0xd5a79147
DATA sealK256<>+232(SB)/4, $0x06ca6351
DATA sealK256<>+236(SB)/4, $0x14292967
DATA sealK256<>+240(SB)/4, $0xc6e00bf3
DATA sealK256<>+244(SB)/4, $0xd5a79147
DATA sealK256<>+248(SB)/4, $0x06ca6351
DATA sealK256<>+252(SB)/4, $0x14292967
DATA sealK256<>+256(SB)/4, $0x27b70a85
DATA sealK256<>+260(SB)/4, $0x2e1b2138
DATA sealK256<>+264(SB)/4, $0x4d2c6dfc
DATA sealK256<>+268(SB)/4, $0x53380d13
DATA sealK256<>+272(SB)/4, $0x27b70a85
DATA sealK256<>+276(SB)/4, $0x2e1b2138
DATA sealK256<>+280(SB)/4, $0x4d2c6dfc
DATA sealK256<>+284(SB)/4, $0x53380d13
DATA sealK256<>+288(SB)/4, $0x650a7354
DATA sealK256<>+292(SB)/4, $0x766a0abb
DATA sealK256<>+296(SB)/4, $0x81c2c92e
DATA sealK256<>+300(SB)/4, $0x92722c85
DATA sealK256<>+304(SB)/4, $0x650a7354
DATA sealK256<>+308(SB)/4, $0x766a0abb
DATA sealK256<>+312(SB)/4, $0x81c2c92e
DATA sealK256<>+316(SB)/4, $0x92722c85
DATA sealK256<>+320(SB)/4, $0xa2bfe8a1
DATA sealK256<>+324(SB)/4, $0xa81a664b
DATA sealK256<>+328(SB)/4, $0xc24b8b70
DATA sealK256<>+332(SB)/4, $0xc76c51a3
DATA sealK256<>+336(SB)/4, $0xa2bfe8a1
DATA sealK256<>+340(SB)/4, $0xa81a664b
DATA sealK256<>+344(SB)/4, $0xc24b8b70
DATA sealK256<>+348(SB)/4, $0xc76c51a3
DATA sealK256<>+352(SB)/4, $0xd192e819
DATA sealK256<>+356(SB)/4, $0xd6990624
DATA sealK256<>+360(SB)/4, $0xf40e3585
DATA sealK256<>+364(SB)/4, $0x106aa070
DATA sealK256<>+368(SB)/4, $0xd192e819
DATA sealK256<>+372(SB)/4, $0xd6990624
DATA sealK256<>+376(SB)/4, $0xf40e3585
DATA sealK256<>+380(SB)/4, $0x106aa070
DATA sealK256<>+384(SB)/4, $0x19a4c116
DATA sealK256<>+388(SB)/4, $0x1e376c08
DATA sealK256<>+392(SB)/4, $0x2748774c
DATA sealK256<>+396(SB)/4, $0x34b0bcb5
DATA sealK256<>+400(SB)/4, $0x19a4c116
DATA sealK256<>+404(SB)/4, $0x1e376c08
DATA sealK256<>+408(SB)/4, $0x2748774c
DATA sealK256<>+412(SB)/4, $0x34b0bcb5
DATA sealK256<>+416(SB)/4, $0x391c0cb3
DATA sealK256<>+420(SB)/4, $0x4ed8aa4a
DATA sealK256<>+424(SB)/4, $0x5b9cca4f
DATA sealK256<>+428(SB)/4, $0x682e6ff3
DATA sealK256<>+432(SB)/4, $0x391c0cb3
DATA sealK256<>+436(SB)/4, $0x4ed8aa4a
DATA sealK256<>+440(SB)/4, $0x5b9cca4f
DATA sealK256<>+444(SB)/4, $0x682e6ff3
DATA sealK256<>+448(SB)/4, $0x748f82ee
DATA sealK256<>+452(SB)/4, $0x78a5636f
DATA sealK256<>+456(SB)/4, $0x84c87814
DATA sealK256<>+460(SB)/4, $0x8cc70208
DATA sealK256<>+464(SB)/4, $0x748f82ee
DATA sealK256<>+468(SB)/4, $0x78a5636f
DATA sealK256<>+472(SB)/4, $0x84c87814
DATA sealK256<>+476(SB)/4, $0x8cc70208
DATA sealK256<>+480(SB)/4, $0x90befffa
DATA sealK256<>+484(SB)/4, $0xa4506ceb
DATA sealK256<>+488(SB)/4, $0xbef9a3f7
DATA sealK256<>+492(SB)/4, $0xc67178f2
DATA sealK256<>+496(SB)/4, $0x90befffa
DATA sealK256<>+500(SB)/4, $0xa4506ceb
DATA sealK256<>+504(SB)/4, $0xbef9a3f7
DATA sealK256<>+508(SB)/4, $0xc67178f2
GLOBL sealK256<>(SB), RODATA|NOPTR, $512

DATA sealFlip<>+0(SB)/8, $0x0405060700010203
DATA sealFlip<>+8(SB)/8, $0x0c0d0e0f08090a0b
DATA sealFlip<>+16(SB)/8, $0x0405060700010203
DATA sealFlip<>+24(SB)/8, $0x0c0d0e0f08090a0b
GLOBL sealFlip<>(SB), RODATA, $32

// AES_BLOCK encrypts the block at off(DI) in place, chaining through X11.
// X13 and X14 hold round keys 0 and 10, AX points at the round keys.
#define AES_BLOCK(off) \
	MOVUPS off(DI), X12; \
	PXOR X11, X12; \
	PXOR X13, X12; \
	AESENC 16(AX), X12; \
	AESENC 32(AX), X12; \
	AESENC 48(AX), X12; \
	AESENC 64(AX), X12; \
	AESENC 80(AX), X12; \
	AESENC 96(AX), X12; \
	AESENC 112(AX), X12; \
	AESENC 128(AX), X12; \
	AESENC 144(AX), X12; \
	AESENCLAST X14, X12; \
	MOVUPS X12, off(DI); \
	MOVAPS X12, X11;

// SHA_1 to SHA_4 compress the 64-byte block at (SI) into X1 and X2
// (blockSHANI's state order); X8 is the byte-swap mask, R8 the constants.
#define SHA_1 \
	VMOVDQA X1, X9; \
	VMOVDQA X2, X10; \
	VMOVDQU (SI), X0; \
	PSHUFB X8, X0; \
	VMOVDQA X0, X3; \
	PADDD (R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	VMOVDQU 16(SI), X0; \
	PSHUFB X8, X0; \
	VMOVDQA X0, X4; \
	PADDD 32(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X4, X3; \
	VMOVDQU 32(SI), X0; \
	PSHUFB X8, X0; \
	VMOVDQA X0, X5; \
	PADDD 64(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X5, X4; \
	VMOVDQU 48(SI), X0; \
	PSHUFB X8, X0; \
	VMOVDQA X0, X6; \
	PADDD 96(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X6, X7; \
	PALIGNR $0x04, X5, X7; \
	PADDD X7, X3; \
	SHA256MSG2 X6, X3; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X6, X5; \
	VMOVDQA X3, X0; \
	PADDD 128(R8), X0; \
	SHA256RNDS2 X0, X1, X2;

#define SHA_2 \
	VMOVDQA X3, X7; \
	PALIGNR $0x04, X6, X7; \
	PADDD X7, X4; \
	SHA256MSG2 X3, X4; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X3, X6; \
	VMOVDQA X4, X0; \
	PADDD 160(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X4, X7; \
	PALIGNR $0x04, X3, X7; \
	PADDD X7, X5; \
	SHA256MSG2 X4, X5; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X4, X3; \
	VMOVDQA X5, X0; \
	PADDD 192(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X5, X7; \
	PALIGNR $0x04, X4, X7; \
	PADDD X7, X6; \
	SHA256MSG2 X5, X6; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X5, X4; \
	VMOVDQA X6, X0; \
	PADDD 224(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X6, X7; \
	PALIGNR $0x04, X5, X7; \
	PADDD X7, X3; \
	SHA256MSG2 X6, X3; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1;

#define SHA_3 \
	SHA256MSG1 X6, X5; \
	VMOVDQA X3, X0; \
	PADDD 256(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X3, X7; \
	PALIGNR $0x04, X6, X7; \
	PADDD X7, X4; \
	SHA256MSG2 X3, X4; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X3, X6; \
	VMOVDQA X4, X0; \
	PADDD 288(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X4, X7; \
	PALIGNR $0x04, X3, X7; \
	PADDD X7, X5; \
	SHA256MSG2 X4, X5; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X4, X3; \
	VMOVDQA X5, X0; \
	PADDD 320(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X5, X7; \
	PALIGNR $0x04, X4, X7; \
	PADDD X7, X6; \
	SHA256MSG2 X5, X6; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X5, X4; \
	VMOVDQA X6, X0; \
	PADDD 352(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X6, X7; \
	PALIGNR $0x04, X5, X7; \
	PADDD X7, X3; \
	SHA256MSG2 X6, X3; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1;

#define SHA_4 \
	SHA256MSG1 X6, X5; \
	VMOVDQA X3, X0; \
	PADDD 384(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X3, X7; \
	PALIGNR $0x04, X6, X7; \
	PADDD X7, X4; \
	SHA256MSG2 X3, X4; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	SHA256MSG1 X3, X6; \
	VMOVDQA X4, X0; \
	PADDD 416(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X4, X7; \
	PALIGNR $0x04, X3, X7; \
	PADDD X7, X5; \
	SHA256MSG2 X4, X5; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	VMOVDQA X5, X0; \
	PADDD 448(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X5, X7; \
	PALIGNR $0x04, X4, X7; \
	PADDD X7, X6; \
	SHA256MSG2 X5, X6; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	VMOVDQA X6, X0; \
	PADDD 480(R8), X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1; \
	PADDD X9, X1; \
	PADDD X10, X2;

// func encryptSHA256(enc *[176]byte, iv *[16]byte, buf []byte, off int, chunks int, state *[8]uint32)
//
// Encrypts buf[off:off+64*chunks] in place, chaining from *iv, and compresses
// the blocks buf[0:64*chunks] into state, block b during chunk b+1 (so that
// block b's bytes, all at or before buf[off+64*b+63], are ciphertext
// already and none is being written). chunks >= 1; off >= 0.
// Requires: AES, SHA, AVX, SSE4.1, SSSE3.
TEXT ·encryptSHA256(SB), NOSPLIT, $0-64
	MOVQ enc+0(FP), AX
	MOVQ iv+8(FP), BX
	MOVQ buf_base+16(FP), SI
	MOVQ off+40(FP), DI
	ADDQ SI, DI
	MOVQ chunks+48(FP), CX
	MOVQ state+56(FP), DX
	LEAQ sealK256<>+0(SB), R8

	// state into the order SHA256RNDS2 wants (as blockSHANI)
	VMOVDQU (DX), X1
	VMOVDQU 16(DX), X2
	PSHUFD  $0xb1, X1, X1
	PSHUFD  $0x1b, X2, X2
	VMOVDQA X1, X7
	PALIGNR $0x08, X2, X1
	PBLENDW $0xf0, X7, X2
	VMOVDQA sealFlip<>+0(SB), X8

	MOVUPS (BX), X11
	MOVUPS 0(AX), X13
	MOVUPS 160(AX), X14

	// chunk 0: nothing to hash yet
	AES_BLOCK(0)
	AES_BLOCK(16)
	AES_BLOCK(32)
	AES_BLOCK(48)
	ADDQ $64, DI
	DECQ CX
	JZ   last

loop:
	// chunk j, block j-1
	SHA_1
	AES_BLOCK(0)
	SHA_2
	AES_BLOCK(16)
	SHA_3
	AES_BLOCK(32)
	SHA_4
	AES_BLOCK(48)
	ADDQ $64, DI
	ADDQ $64, SI
	DECQ CX
	JNZ  loop

last:
	// the last block
	SHA_1
	SHA_2
	SHA_3
	SHA_4

	// state back (as blockSHANI)
	PSHUFD  $0x1b, X1, X1
	PSHUFD  $0xb1, X2, X2
	VMOVDQA X1, X7
	PBLENDW $0xf0, X2, X1
	PALIGNR $0x08, X7, X2
	VMOVDQU X1, (DX)
	VMOVDQU X2, 16(DX)
	MOVUPS  X11, (BX)
	RET

// func cpuidSHA() bool: CPUID leaf 7, EBX bit 29 (SHA extensions).
TEXT ·cpuidSHA(SB), NOSPLIT, $0-1
	MOVL $0, AX
	CPUID
	CMPL AX, $7
	JB   no
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	SHRL $29, BX
	ANDL $1, BX
	MOVB BX, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET
