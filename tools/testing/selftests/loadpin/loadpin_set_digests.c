// SPDX-License-Identifier: GPL-2.0
/*
 * loadpin_set_digests FILE: hand FILE to LoadPin as its list of trusted
 * dm-verity root digests, through LOADPIN_IOC_SET_TRUSTED_VERITY_DIGESTS
 * on securityfs.  Prints "ok" or the errno the ioctl failed with, by name,
 * and exits 0, 1 if the ioctl failed, or 2 if it could not be made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/loadpin.h>

#define LOADPIN_VERITY "/sys/kernel/security/loadpin/dm-verity"

int main(int argc, char *argv[])
{
	unsigned int fd;
	int dev, file;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIGEST-FILE\n", argv[0]);
		return 2;
	}
	file = open(argv[1], O_RDONLY);
	if (file < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	dev = open(LOADPIN_VERITY, O_RDONLY);
	if (dev < 0) {
		fprintf(stderr, "%s: %s\n", LOADPIN_VERITY, strerror(errno));
		return 2;
	}

	fd = file;
	if (ioctl(dev, LOADPIN_IOC_SET_TRUSTED_VERITY_DIGESTS, &fd)) {
		printf("%s (%s)\n", strerrorname_np(errno), strerror(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}
