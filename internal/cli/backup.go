package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/platform/backup"
	"github.com/tenon-crm/tenon/internal/platform/files"
)

// runArchive parses the flags of `tenon backup` and `tenon restore` and runs
// the command. Neither bootstraps the admin user: backup only reads, and
// restore needs a database without users. cfg is the caller's, whose --db
// flag fs already binds.
func runArchive(ctx context.Context, cmd string, fs *flag.FlagSet, args []string, cfg *app.Config, stdout, stderr io.Writer) error {
	var path string
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (files are read from / written to its files/ folder)")
	if cmd == "backup" {
		fs.StringVar(&path, "out", "", "archive file to write")
	} else {
		fs.StringVar(&path, "in", "", "archive file to read")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if path == "" {
		if cmd == "backup" {
			return errors.New("--out FILE is required")
		}
		return errors.New("--in FILE is required")
	}
	level := slog.LevelInfo
	if os.Getenv("TENON_LOG") == "debug" {
		level = slog.LevelDebug
	}
	cfg.Log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	if cmd == "backup" {
		return runBackup(ctx, *cfg, path, stdout, stderr)
	}
	return runRestore(ctx, *cfg, path, stdout, stderr)
}

func archiveConfig(a *app.App) (backup.Config, error) {
	st, err := files.NewLocal(filepath.Join(a.Cfg.DataDir, "files"))
	if err != nil {
		return backup.Config{}, err
	}
	return backup.Config{DB: a.DB, Meta: a.Meta, Files: st, TenonVersion: app.Version, Log: a.Log}, nil
}

// runBackup writes the archive to a temporary file beside out and renames
// it into place once complete, so out is never a partial archive.
func runBackup(ctx context.Context, cfg app.Config, out string, stdout, stderr io.Writer) (err error) {
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.MigrateSchema(ctx); err != nil {
		return err
	}
	bc, err := archiveConfig(a)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	m, err := backup.Backup(ctx, bc, bw)
	if err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), out); err != nil {
		return err
	}
	for _, w := range m.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "backup written to %s: schema %d, %d tables, %d rows, %d files (%d bytes)\n",
		out, m.SchemaVersion, len(m.Tables), m.Rows(), m.Files.Count, m.Files.Bytes)
	return nil
}

// runRestore checks the archive before touching the target, then prepares
// the target's schema (no bootstrap) and loads the archive into it.
func runRestore(ctx context.Context, cfg app.Config, in string, stdout, stderr io.Writer) error {
	ar, err := backup.OpenFile(in)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	defer ar.Close()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.MigrateSchema(ctx); err != nil {
		return err
	}
	bc, err := archiveConfig(a)
	if err != nil {
		return err
	}
	res, err := backup.Restore(ctx, bc, ar)
	if err != nil {
		return err
	}
	if err := a.Records.CatchUpSearch(ctx, nil); err != nil {
		return fmt.Errorf("building the search index: %w", err)
	}
	if err := a.Records.OptimizeSearch(ctx); err != nil {
		return fmt.Errorf("compacting the search index: %w", err)
	}
	m := ar.Manifest
	for _, w := range m.Warnings {
		fmt.Fprintln(stderr, "warning (from the backup):", w)
	}
	fmt.Fprintf(stdout, "restored %s (a %s backup of %s) into %s: %d tables, %d rows, %d files (%d bytes)\n",
		in, m.Source, m.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), a.DB.Kind, res.Tables, res.Rows, res.Files, res.FileBytes)
	return nil
}
