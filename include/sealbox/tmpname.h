/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tmpname.h - the prefix of every temporary file sealbox writes, on a target
 * (an upload before its rename) and in the archive dir. The transports write
 * such names, the chain grouping and the cleanups recognise them.
 */
#ifndef SEALBOX_TMPNAME_H
#define SEALBOX_TMPNAME_H

#define SB_TMP_PREFIX ".sealbox-tmp."

#endif
