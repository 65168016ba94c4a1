/* SPDX-License-Identifier: GPL-2.0-or-later */
/* idname.c - cached id <-> name lookups (see idname.h). */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/idname.h"

#define SLOTS 64

struct slot {
	int used;
	unsigned id;
	char name[256];
	int known; /* name -> id lookups: the name exists */
};

static struct slot users[SLOTS], groups[SLOTS], unames[SLOTS], gnames[SLOTS];

static struct slot *by_id(struct slot *tab, unsigned id)
{
	struct slot *s = &tab[id % SLOTS];

	return s->used && s->id == id ? s : NULL;
}

static unsigned hash_name(const char *n)
{
	unsigned h = 5381;

	while (*n)
		h = h * 33 + (unsigned char)*n++;
	return h;
}

static void set_name(struct slot *s, unsigned id, const char *name)
{
	s->used = 1;
	s->id = id;
	s->name[0] = '\0';
	if (name && strlen(name) < sizeof(s->name))
		strcpy(s->name, name);
}

const char *sb_uid_name(uid_t uid)
{
	struct slot *s = by_id(users, uid);
	struct passwd *pw;

	if (!s) {
		s = &users[uid % SLOTS];
		pw = getpwuid(uid);
		set_name(s, uid, pw ? pw->pw_name : NULL);
	}
	return s->name;
}

const char *sb_gid_name(gid_t gid)
{
	struct slot *s = by_id(groups, gid);
	struct group *gr;

	if (!s) {
		s = &groups[gid % SLOTS];
		gr = getgrgid(gid);
		set_name(s, gid, gr ? gr->gr_name : NULL);
	}
	return s->name;
}

static struct slot *by_name(struct slot *tab, const char *name)
{
	struct slot *s = &tab[hash_name(name) % SLOTS];

	return s->used && !strcmp(s->name, name) ? s : NULL;
}

bool sb_name_uid(const char *name, uid_t *uid)
{
	struct slot *s;
	struct passwd *pw;

	if (!*name || strlen(name) >= sizeof(s->name))
		return false;
	if (!(s = by_name(unames, name))) {
		s = &unames[hash_name(name) % SLOTS];
		pw = getpwnam(name);
		set_name(s, pw ? pw->pw_uid : 0, name);
		s->known = pw != NULL;
	}
	*uid = s->id;
	return s->known;
}

bool sb_name_gid(const char *name, gid_t *gid)
{
	struct slot *s;
	struct group *gr;

	if (!*name || strlen(name) >= sizeof(s->name))
		return false;
	if (!(s = by_name(gnames, name))) {
		s = &gnames[hash_name(name) % SLOTS];
		gr = getgrnam(name);
		set_name(s, gr ? gr->gr_gid : 0, name);
		s->known = gr != NULL;
	}
	*gid = s->id;
	return s->known;
}
