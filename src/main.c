/* main — the mlledger binary: sets up process-wide library state once, on
 * the main thread, before any command runs (so before any thread starts),
 * then hands over to cli_main.  May call cli and policy.
 */
#include "cli.h"
#include "policy.h"

int
main(int argc, char **argv)
{
	/* libxml2's parser and XML Schema types: here, and not in whichever
	 * thread loads a policy first (serve answers a gate submission on a
	 * connection thread; sweep workers load their own copies) */
	ml_policy_global_init();
	return cli_main(argc, argv);
}
