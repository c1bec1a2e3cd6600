# SPDX-License-Identifier: GPL-2.0
#
# pmalloc: build Linux 6.12 with the pmalloc series and test it.
# The work happens in harness/; everything it makes lands in work/.

.PHONY: check demo bench series tree build clean distclean

check series tree build demo bench clean distclean:
	@harness/run $@
