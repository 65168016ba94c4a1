/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * idname.h - user and group names for ids and back, cached (NSS lookups are
 * slow and a tree has few distinct owners). Not thread-safe.
 */
#ifndef SEALBOX_IDNAME_H
#define SEALBOX_IDNAME_H

#include <stdbool.h>
#include <sys/types.h>

/* Name of uid/gid, "" when it has none. Borrowed until the next call. */
const char *sb_uid_name(uid_t uid);
const char *sb_gid_name(gid_t gid);
/* Id for a name on this host; false when unknown or name is "". */
bool sb_name_uid(const char *name, uid_t *uid);
bool sb_name_gid(const char *name, gid_t *gid);

#endif
