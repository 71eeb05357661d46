package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

// server is a tenon process started from the test binary's build.
type server struct {
	cmd  *exec.Cmd
	base string
}

func startServer(t *testing.T, bin, dsn, dataDir string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", dsn, "--data", dataDir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TENON_ADMIN_PASSWORD=crash-pass-1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	deadline := time.After(60 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("server exited before listening")
			}
			if i := strings.Index(l, "listening on "); i >= 0 {
				go func() {
					for range lines {
					}
				}()
				return &server{cmd: cmd, base: strings.TrimSpace(l[i+len("listening on "):])}
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("server did not start")
		}
	}
}

type session struct {
	hc   *http.Client
	base string
	csrf string
}

func login(t *testing.T, base string) *session {
	jar, _ := cookiejar.New(nil)
	s := &session{hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}, base: base}
	res, err := s.hc.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"login":"admin","password":"crash-pass-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("login: %d %v", res.StatusCode, err)
	}
	s.csrf = out.CSRF
	return s
}

func (s *session) send(method, path string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	req.Header.Set("X-CSRF-Token", s.csrf)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, nil
}

// TestAcknowledgedWritesSurviveSIGKILL kills the server in the middle of a
// burst of creates and checks, after a restart, that every create that was
// answered 201 is there with its audit row.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "tenon")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbtest.ForEach(t, "tenon_crash", func(t *testing.T, dsn string) {
		data := t.TempDir()
		srv := startServer(t, bin, dsn, data)
		s := login(t, srv.base)
		st, _, err := s.send("POST", "/api/v1/meta/entities", map[string]any{"name": "burst", "label": map[string]string{"en": "Burst"},
			"fields": []map[string]any{{"name": "name", "type": "text"}, {"name": "n", "type": "integer"}}})
		if err != nil || st != 201 {
			t.Fatalf("entity: %d %v", st, err)
		}
		var mu sync.Mutex
		acked := map[string]int{}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					st, rec, err := s.send("POST", "/api/v1/records/burst", map[string]any{"name": fmt.Sprint("w", w, "-", i), "n": i})
					if err != nil {
						return
					}
					if st == 201 {
						mu.Lock()
						acked[rec["id"].(string)] = i
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(1500 * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = srv.cmd.Wait()
		close(stop)
		wg.Wait()
		if len(acked) == 0 {
			t.Fatal("no write was acknowledged before the kill")
		}
		srv2 := startServer(t, bin, dsn, data)
		defer func() { srv2.cmd.Process.Signal(syscall.SIGTERM); srv2.cmd.Wait() }()
		s2 := login(t, srv2.base)
		for id, n := range acked {
			st, rec, err := s2.send("GET", "/api/v1/records/burst/"+id, nil)
			if err != nil || st != 200 || rec["n"].(float64) != float64(n) {
				t.Fatalf("acknowledged record %s lost: %d %v %v", id, st, rec, err)
			}
			st, hist, err := s2.send("GET", "/api/v1/records/burst/"+id+"/history", nil)
			if err != nil || st != 200 || len(hist["items"].([]any)) != 1 {
				t.Fatalf("audit row of %s lost: %d %v", id, st, hist)
			}
		}
		t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
	})
}
