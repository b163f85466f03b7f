// Command upstream-registry is the local stack's referrers-capable, paginating upstream: go-containerregistry's
// registry (pkg/registry, the registry `crane registry serve` runs) with its referrers API switched on, blobs kept
// on disk, and manifests in memory (they are pushed at every start).
//
// Production's upstream (Artifact Registry) answers the referrers API, tag pagination and every Range form; the
// library leaves four of those gaps, and this command closes them in front of it (docs/local-stack.md lists them):
//
//   - `crane registry serve` does not enable the referrers API (registry.WithReferrersSupport): enabled here;
//   - a referrers listing reports the config's media type as artifactType even when the manifest has its own
//     artifactType (dist-spec "Listing Referrers": the manifest's artifactType comes first), and ignores the
//     artifactType filter: both answered here, with OCI-Filters-Applied when the filter was applied;
//   - tags/list with `last` at or past the final tag returns the whole list (it must return none), and `n` sends no
//     Link header: answered here from the library's own full, sorted list;
//   - blob Range requests are parsed as `bytes=%d-%d` only (open, suffix and past-the-end ranges get 416): blob
//     GET and HEAD are served from the library's own disk store with net/http's ServeContent (RFC 9110 ranges).
//
// Usage: upstream-registry --address 127.0.0.1:0 --disk DIR. It prints "listening on 127.0.0.1:<port>" once bound.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const indexMediaType = "application/vnd.oci.image.index.v1+json"

type front struct {
	inner http.Handler
	disk  string
}

// route splits /v2/<name>/<kind>/<ref> into its parts; ok is false for any other path.
func route(path string) (name, kind, ref string, ok bool) {
	if !strings.HasPrefix(path, "/v2/") {
		return "", "", "", false
	}
	parts := strings.Split(strings.TrimPrefix(path, "/v2/"), "/")
	if len(parts) < 3 {
		return "", "", "", false
	}
	return strings.Join(parts[:len(parts)-2], "/"), parts[len(parts)-2], parts[len(parts)-1], true
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, kind, ref, ok := route(r.URL.Path)
	switch {
	case ok && kind == "tags" && ref == "list" && r.Method == http.MethodGet:
		f.tags(w, r, name)
	case ok && kind == "referrers" && r.Method == http.MethodGet:
		f.referrers(w, r, name, ref)
	case ok && kind == "blobs" && ref != "uploads" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		f.blob(w, r, ref)
	default:
		f.inner.ServeHTTP(w, r)
	}
}

// ask sends a GET to the library's handler in-process and returns its answer.
func (f *front) ask(path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	f.inner.ServeHTTP(rec, req)
	return rec
}

func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": message}}})
}

func writeJSON(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// tags answers tags/list from the library's full list (sorted), applying `last` and `n` per dist-spec "Listing Tags".
func (f *front) tags(w http.ResponseWriter, r *http.Request, name string) {
	rec := f.ask("/v2/"+name+"/tags/list", nil)
	if rec.Code != http.StatusOK {
		relay(w, rec)
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "tag list: "+err.Error())
		return
	}
	tags := append([]string{}, list.Tags...)
	sort.Strings(tags)
	q := r.URL.Query()
	if last := q.Get("last"); q.Has("last") {
		i := sort.SearchStrings(tags, last)
		if i < len(tags) && tags[i] == last {
			i++
		}
		tags = tags[i:]
	}
	next := ""
	if q.Has("n") {
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "n must be a whole number")
			return
		}
		if n < len(tags) {
			tags = tags[:n]
			if n > 0 {
				v := url.Values{"n": {strconv.Itoa(n)}, "last": {tags[n-1]}}
				next = fmt.Sprintf("</v2/%s/tags/list?%s>; rel=\"next\"", name, v.Encode())
			}
		}
	}
	body, _ := json.Marshal(map[string]any{"name": name, "tags": tags})
	if next != "" {
		w.Header().Set("Link", next)
	}
	writeJSON(w, "application/json", body)
}

// referrers answers the referrers API from the library's listing, with each descriptor's artifactType read from the
// referrer manifest itself, and the artifactType filter applied.
func (f *front) referrers(w http.ResponseWriter, r *http.Request, name, subject string) {
	if _, err := v1.NewHash(subject); err != nil {
		writeError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest "+subject)
		return
	}
	rec := f.ask("/v2/"+name+"/referrers/"+subject, nil)
	var index struct {
		SchemaVersion int              `json:"schemaVersion"`
		MediaType     string           `json:"mediaType"`
		Manifests     []map[string]any `json:"manifests"`
	}
	switch rec.Code {
	case http.StatusOK:
		if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil {
			writeError(w, http.StatusInternalServerError, "UNKNOWN", "referrers: "+err.Error())
			return
		}
	case http.StatusNotFound:
		// an unknown repository has no referrers: an empty index, as for an unknown subject
	default:
		relay(w, rec)
		return
	}
	filter := r.URL.Query().Get("artifactType")
	out := []map[string]any{}
	for _, d := range index.Manifests {
		digest, _ := d["digest"].(string)
		m := f.ask("/v2/"+name+"/manifests/"+digest, nil)
		if m.Code == http.StatusOK {
			var parts struct {
				ArtifactType string `json:"artifactType"`
				Config       struct {
					MediaType string `json:"mediaType"`
				} `json:"config"`
			}
			if json.Unmarshal(m.Body.Bytes(), &parts) == nil {
				at := parts.ArtifactType
				if at == "" {
					at = parts.Config.MediaType
				}
				if at == "" {
					delete(d, "artifactType")
				} else {
					d["artifactType"] = at
				}
			}
		}
		if filter != "" && d["artifactType"] != filter {
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["digest"]) < fmt.Sprint(out[j]["digest"]) })
	body, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": indexMediaType, "manifests": out})
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(w, indexMediaType, body)
}

// blob serves GET and HEAD of a stored blob from the disk store with RFC 9110 range handling; anything it cannot
// find or parse goes to the library, which answers with its own error.
func (f *front) blob(w http.ResponseWriter, r *http.Request, ref string) {
	h, err := v1.NewHash(ref)
	if err != nil {
		f.inner.ServeHTTP(w, r)
		return
	}
	file, err := os.Open(filepath.Join(f.disk, h.Algorithm, h.Hex))
	if err != nil {
		f.inner.ServeHTTP(w, r)
		return
	}
	defer file.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", time.Time{}, file)
}

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	disk := flag.String("disk", "", "directory for blobs (required)")
	quiet := flag.Bool("quiet", true, "do not log every request")
	flag.Parse()
	if *disk == "" {
		fmt.Fprintln(os.Stderr, "upstream-registry: --disk DIR is required")
		os.Exit(64)
	}
	if err := os.MkdirAll(*disk, 0o755); err != nil {
		log.Fatalf("upstream-registry: %v", err)
	}
	var logger *log.Logger
	if *quiet {
		logger = log.New(io.Discard, "", 0)
	} else {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	inner := registry.New(
		registry.WithBlobHandler(registry.NewDiskBlobHandler(*disk)),
		registry.WithReferrersSupport(true),
		registry.Logger(logger),
	)
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalf("upstream-registry: %v", err)
	}
	fmt.Printf("listening on %s\n", listener.Addr().String())
	server := &http.Server{Handler: &front{inner: inner, disk: *disk}, ReadHeaderTimeout: 10 * time.Second}
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		log.Fatalf("upstream-registry: %v", err)
	}
}
