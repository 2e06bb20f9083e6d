/* A static-PIE program: prints where it was loaded relative to the low 64 KiB. */
#include <stdio.h>
int main(void) {
	printf("pie: main above 0x10000: %d\n", (unsigned long)main > 0x10000);
	return 0;
}
