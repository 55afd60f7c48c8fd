/* tests/valgrind/leak.c — the negative test of `make valgrind`: a definite
 * leak and an invalid read that the valgrind flags used there must turn
 * into a failing exit code.  Not part of mlledger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char *p = malloc(16), *q = malloc(8);

	(void)argv;
	if (!p || !q)
		return 2;
	strcpy(p, "leaked");
	memset(q, 'x', 8);
	if (argc > 1)
		printf("%c\n", q[8]); /* invalid read, one past the block */
	free(q);
	p = NULL;              /* the 16 bytes are now definitely lost */
	return 0;
}
