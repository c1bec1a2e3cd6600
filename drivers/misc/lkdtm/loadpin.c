// SPDX-License-Identifier: GPL-2.0
/*
 * A write to LoadPin's list of trusted dm-verity root digests.  Once user
 * space has loaded the list, its entries sit in a protected pmalloc pool,
 * so a plain store to a digest must end in a write-protection fault.  If
 * the store lands, the digest no longer matches its device, and LoadPin
 * refuses the device from then on: that is how a test sees it.
 *
 * The list head is deliberately not exported, so this file is built only
 * when LKDTM is built in.
 */
#include "lkdtm.h"

#include <linux/dm-verity-loadpin.h>
#include <linux/list.h>

static void lkdtm_LOADPIN_WRITE_DIGEST(void)
{
	struct dm_verity_loadpin_trusted_root_digest *trd;

	trd = list_first_entry_or_null(&dm_verity_loadpin_trusted_root_digests,
				       typeof(*trd), node);
	if (!trd || !trd->len) {
		pr_err("FAIL: no trusted dm-verity root digest is loaded\n");
		return;
	}

	pr_info("trusted digest %*phN\n", trd->len, trd->data);
	pr_info("attempting bad write to the trusted digest\n");
	WRITE_ONCE(trd->data[0], trd->data[0] ^ 0xff);

	pr_err("FAIL: survived bad write, digest now %*phN\n", trd->len,
	       trd->data);
}

static struct crashtype crashtypes[] = {
	CRASHTYPE(LOADPIN_WRITE_DIGEST),
};

struct crashtype_category loadpin_crashtypes = {
	.crashtypes = crashtypes,
	.len	    = ARRAY_SIZE(crashtypes),
};
