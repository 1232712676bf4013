package api

import (
	_ "embed"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/afkar-gov/afkar/api/web"
)

// OpenAPI is the API's description (OpenAPI 3.1), embedded so the binary serves the description
// of exactly the routes it has. api/openapi.yaml is the file to edit; docs/openapi.yaml is a
// copy for readers of the repository, and tests keep both equal and in step with routes.go.
//
//go:embed openapi.yaml
var OpenAPI []byte

// apiDocsPage is the /api/docs page, rendered once from OpenAPI at start.
var apiDocsPage = mustRenderAPIDocs()

// mustRenderAPIDocs parses the embedded description and renders its page; a broken description
// is a build defect (every api test would panic on it), never a runtime condition.
func mustRenderAPIDocs() []byte {
	d, err := ParseOpenAPI(OpenAPI)
	if err != nil {
		panic(err)
	}
	page, err := web.RenderAPIDocs(d)
	if err != nil {
		panic(fmt.Errorf("api docs page: %w", err))
	}
	return page
}

// openAPIFile is the part of an OpenAPI document the docs page shows.
type openAPIFile struct {
	Info struct {
		Title       string `yaml:"title"`
		Version     string `yaml:"version"`
		Summary     string `yaml:"summary"`
		Description string `yaml:"description"`
	} `yaml:"info"`
	Tags []struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"tags"`
	Paths      map[string]map[string]openAPIOp `yaml:"paths"`
	Components struct {
		Parameters map[string]openAPIParam    `yaml:"parameters"`
		Responses  map[string]openAPIResponse `yaml:"responses"`
	} `yaml:"components"`
}

type openAPIOp struct {
	Tags        []string              `yaml:"tags"`
	Summary     string                `yaml:"summary"`
	Description string                `yaml:"description"`
	Who         string                `yaml:"x-who"`
	Security    []map[string][]string `yaml:"security"`
	Parameters  []openAPIParam        `yaml:"parameters"`
	RequestBody *struct {
		Required bool           `yaml:"required"`
		Content  map[string]any `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]openAPIResponse `yaml:"responses"`
}

type openAPIParam struct {
	Ref         string `yaml:"$ref"`
	Name        string `yaml:"name"`
	In          string `yaml:"in"`
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
}

type openAPIResponse struct {
	Ref         string         `yaml:"$ref"`
	Description string         `yaml:"description"`
	Content     map[string]any `yaml:"content"`
}

// methodOrder orders an path's operations on the page.
var methodOrder = map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}

// ParseOpenAPI reads an OpenAPI document into the docs page's model: operations grouped by
// their first tag in the document's tag order, by path then method within a group. It fails on
// what would make the page lie: an operation without a known tag, or a $ref that resolves to
// nothing.
func ParseOpenAPI(b []byte) (web.APIDocs, error) {
	var f openAPIFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return web.APIDocs{}, fmt.Errorf("openapi: %w", err)
	}
	d := web.APIDocs{Version: f.Info.Version, Title: web.SplitBilingual(f.Info.Title),
		Summary: web.SplitBilingual(f.Info.Summary), Description: web.SplitBilingual(f.Info.Description)}
	group := map[string]int{}
	for _, t := range f.Tags {
		group[t.Name] = len(d.Tags)
		d.Tags = append(d.Tags, web.APITag{Name: t.Name, Description: web.SplitBilingual(t.Description)})
	}
	paths := make([]string, 0, len(f.Paths))
	for p := range f.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		methods := make([]string, 0, len(f.Paths[p]))
		for m := range f.Paths[p] {
			if _, ok := methodOrder[m]; !ok {
				return d, fmt.Errorf("openapi: %s: %q is not a method this page knows", p, m)
			}
			methods = append(methods, m)
		}
		sort.Slice(methods, func(i, j int) bool { return methodOrder[methods[i]] < methodOrder[methods[j]] })
		for _, m := range methods {
			op, err := f.operation(p, m, f.Paths[p][m])
			if err != nil {
				return d, err
			}
			if len(f.Paths[p][m].Tags) == 0 {
				return d, fmt.Errorf("openapi: %s %s has no tag", m, p)
			}
			g, ok := group[f.Paths[p][m].Tags[0]]
			if !ok {
				return d, fmt.Errorf("openapi: %s %s: tag %q is not in the document's tags", m, p, f.Paths[p][m].Tags[0])
			}
			d.Tags[g].Ops = append(d.Tags[g].Ops, op)
		}
	}
	return d, nil
}

// operation builds one operation of the page, resolving parameter and response references.
func (f *openAPIFile) operation(path, method string, o openAPIOp) (web.APIOp, error) {
	op := web.APIOp{Method: strings.ToUpper(method), Path: path, Summary: web.SplitBilingual(o.Summary),
		Description: web.SplitBilingual(o.Description), Who: web.SplitBilingual(o.Who)}
	for _, req := range o.Security {
		if len(req) == 0 {
			op.Auth = append(op.Auth, "none")
			continue
		}
		names := make([]string, 0, len(req))
		for n := range req {
			names = append(names, n)
		}
		sort.Strings(names)
		op.Auth = append(op.Auth, strings.Join(names, " + "))
	}
	for _, prm := range o.Parameters {
		if prm.Ref != "" {
			r, ok := f.Components.Parameters[strings.TrimPrefix(prm.Ref, "#/components/parameters/")]
			if !ok {
				return op, fmt.Errorf("openapi: %s %s: unresolved %s", method, path, prm.Ref)
			}
			prm = r
		}
		op.Params = append(op.Params, web.APIParam{Name: prm.Name, In: prm.In, Description: web.SplitBilingual(prm.Description), Required: prm.Required})
	}
	if o.RequestBody != nil {
		op.Body, op.BodyRequired = sortedKeys(o.RequestBody.Content), o.RequestBody.Required
	}
	statuses := make([]string, 0, len(o.Responses))
	for st := range o.Responses {
		statuses = append(statuses, st)
	}
	sort.Strings(statuses)
	for _, st := range statuses {
		r := o.Responses[st]
		if r.Ref != "" {
			res, ok := f.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
			if !ok {
				return op, fmt.Errorf("openapi: %s %s: unresolved %s", method, path, r.Ref)
			}
			r = res
		}
		op.Responses = append(op.Responses, web.APIResponse{Status: st, Description: web.SplitBilingual(r.Description), Media: sortedKeys(r.Content)})
	}
	return op, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// getOpenAPI answers the embedded description (GET /api/openapi.yaml).
func (s *Server) getOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", OpenAPI)
}

// getAPIDocs answers the description rendered as a Persian page (GET /api/docs).
func (s *Server) getAPIDocs(c echo.Context) error {
	return web.ServeAPIDocs(c, apiDocsPage)
}
