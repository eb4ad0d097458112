/* fwdesc.c - the shared firmware description list. */
#include "fwdesc.h"

#include <errno.h>

int fw_desc_add(struct fw_desc *fw, const struct fw_device *dev)
{
	if (fw->ndevices >= FW_MAX_DEVICES)
		return -ENOSPC;
	fw->devices[fw->ndevices++] = *dev;
	return 0;
}
