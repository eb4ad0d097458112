/* cmdline.h - minivmm's command line: every option parsed and checked into a vm_config. */
#ifndef MINIVMM_CMDLINE_H
#define MINIVMM_CMDLINE_H

#include <stdio.h>

#include "vm.h"

#define CMDLINE_DEFAULT_MEM_MIB 256
#define CMDLINE_DEFAULT_CMDLINE "console=ttyS0"
#define CMDLINE_RUN		(-1) /* cmdline_parse: go on and run the VM */

/*
 * Parse @argv into @cfg (its strings point into @argv). Returns CMDLINE_RUN when the VM is to
 * be built; else the exit status: EXIT_VM_OK after --help, --version or --qmp-schema-doc
 * (printed to @out), EXIT_VM_USAGE with a one-line reason on @err. May be called again (it
 * restarts getopt); sets the global log level (--log-level).
 */
int cmdline_parse(int argc, char **argv, struct vm_config *cfg, FILE *out, FILE *err);

#endif
