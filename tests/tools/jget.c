/*
 * jget FILE PATH: print one value of a JSON document for shell tests, so
 * they need no jq. PATH is dot-separated keys; a number indexes an array;
 * "length" is an array's or object's size. Strings print raw, other values
 * as compact JSON. Exit 1 when the path does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int
main(int argc, char **argv)
{
	json_error_t	 jerr;
	json_t		*root, *v;
	char		*path, *part, *save, *end, *s;
	long		 idx;

	if (argc != 3) {
		fprintf(stderr, "usage: jget FILE PATH\n");
		return (2);
	}
	root = strcmp(argv[1], "-") == 0 ? json_loadf(stdin, 0, &jerr) :
	    json_load_file(argv[1], 0, &jerr);
	if (root == NULL) {
		fprintf(stderr, "jget: %s: %s\n", argv[1], jerr.text);
		return (1);
	}
	v = root;
	path = strdup(argv[2]);
	for (part = strtok_r(path, ".", &save); part != NULL && v != NULL;
	    part = strtok_r(NULL, ".", &save)) {
		if (strcmp(part, "length") == 0 && (json_is_array(v) ||
		    json_is_object(v))) {
			printf("%zu\n", json_is_array(v) ? json_array_size(v) :
			    json_object_size(v));
			free(path);
			json_decref(root);
			return (0);
		}
		if (json_is_array(v)) {
			idx = strtol(part, &end, 10);
			v = *end == '\0' ? json_array_get(v, idx) : NULL;
		} else
			v = json_object_get(v, part);
	}
	free(path);
	if (v == NULL) {
		json_decref(root);
		return (1);
	}
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", s);
		free(s);
	}
	json_decref(root);
	return (0);
}
