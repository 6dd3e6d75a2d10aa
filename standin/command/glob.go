package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gobwas/glob"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type pathRule struct {
	g       glob.Glob
	exclude bool
}

// globAssets walks dir and returns a path asset for every file (not
// directory) matched by the rules, keyed by its slash-separated path relative
// to dir. Rules apply in order; a rule starting with "!" removes what earlier
// rules matched. "*" stops at "/", "**" does not.
func globAssets(dir string, patterns []string) (map[string]*resource.Asset, error) {
	rules := make([]pathRule, 0, len(patterns))
	for _, p := range patterns {
		r := pathRule{exclude: strings.HasPrefix(p, "!")}
		g, err := glob.Compile(strings.TrimPrefix(p, "!"), '/')
		if err != nil {
			return nil, err
		}
		r.g = g
		rules = append(rules, r)
	}
	found := map[string]*resource.Asset{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		for _, r := range rules {
			if !r.g.Match(p) {
				continue
			}
			if r.exclude {
				delete(found, p)
				continue
			}
			a, err := resource.NewPathAsset(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				return err
			}
			found[p] = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}
