package main

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/client"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

func subjectCmd() *cobra.Command {
	return group("subject", "Data-subject requests: export, rectify, erase, delete a token (subject managers, admins)",
		`Answer data-subject requests: access and portability (export), rectification,
erasure of a subject (erase) or of one value not linked to a subject
(delete-token), and offline checks of erasure receipts (verify-receipt).`,
		subjectExportCmd(), subjectRectifyCmd(), subjectEraseCmd(), subjectDeleteTokenCmd(), subjectVerifyReceiptCmd())
}

// exportToken is one token in a readable subject export.
type exportToken struct {
	Class       string `json:"class"`
	Description string `json:"description"`
	Token       string `json:"token"`
	// Value is the text value, or base64 when Encoding says so.
	Value     string `json:"value"`
	Encoding  string `json:"encoding"` // text, base64 (binary class or non-UTF-8 value) or none (not revealed)
	Level     string `json:"level"`
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"` // "never" when the class keeps values until erased
}

type exportConsent struct {
	Purpose     string `json:"purpose"`
	LawfulBasis string `json:"lawfulBasis"`
	Live        bool   `json:"live"`
	GrantedAt   string `json:"grantedAt"`
	ExpiresAt   string `json:"expiresAt"`
	RevokedAt   string `json:"revokedAt"`
}

type exportAccess struct {
	Time     string `json:"time"`
	Caller   string `json:"caller"`
	Purpose  string `json:"purpose"`
	Op       string `json:"op"`
	Class    string `json:"class"`
	Count    int64  `json:"count"`
	Decision string `json:"decision"`
}

// subjectExport is the readable answer to an access request.
type subjectExport struct {
	SubjectID     string          `json:"subjectId"`
	ExportedAt    string          `json:"exportedAt"`
	Tokens        []exportToken   `json:"tokens"`
	Consents      []exportConsent `json:"consents"`
	AccessHistory []exportAccess  `json:"accessHistory"`
}

func readableExport(subject string, now time.Time, e client.SubjectExport) subjectExport {
	out := subjectExport{SubjectID: subject, ExportedAt: now.UTC().Format(time.RFC3339),
		Tokens: []exportToken{}, Consents: []exportConsent{}, AccessHistory: []exportAccess{}}
	for _, t := range e.Tokens {
		et := exportToken{Class: t.GetClass(), Description: t.GetClassDescription(), Token: t.GetToken(), Level: levelName(t.GetLevel()),
			CreatedAt: stampText(t.GetCreatedAt(), "-"), ExpiresAt: stampText(t.GetExpiresAt(), "never")}
		switch {
		case t.GetLevel() == pb.RevealLevel_REVEAL_LEVEL_UNSPECIFIED || t.GetLevel() == pb.RevealLevel_REVEAL_LEVEL_REDACTED:
			et.Encoding = "none"
		case t.GetBinary() || !utf8.Valid(t.GetValue()):
			et.Encoding, et.Value = "base64", base64.StdEncoding.EncodeToString(t.GetValue())
		default:
			et.Encoding, et.Value = "text", string(t.GetValue())
		}
		if et.Level == "unspecified" {
			et.Level = "not revealed"
		}
		out.Tokens = append(out.Tokens, et)
	}
	for _, c := range e.Consents {
		out.Consents = append(out.Consents, exportConsent{Purpose: c.GetPurpose(), LawfulBasis: c.GetLawfulBasis(), Live: c.GetLive(),
			GrantedAt: stampText(c.GetGrantedAt(), "-"), ExpiresAt: stampText(c.GetExpiresAt(), "never"), RevokedAt: stampText(c.GetRevokedAt(), "never")})
	}
	for _, a := range e.Accesses {
		out.AccessHistory = append(out.AccessHistory, exportAccess{Time: stampText(a.GetTime(), "-"), Caller: a.GetCaller(), Purpose: a.GetPurpose(),
			Op: a.GetOp(), Class: a.GetClass(), Count: a.GetCount(), Decision: a.GetDecision()})
	}
	return out
}

// exportCSV writes one row per token, then the consents and the access
// history as sections with their own header rows, so the file opens in a
// spreadsheet.
func exportCSV(w io.Writer, e subjectExport) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"section", "class", "description", "token", "value", "encoding", "level", "created_at", "expires_at"})
	for _, t := range e.Tokens {
		cw.Write([]string{"token", t.Class, t.Description, t.Token, t.Value, t.Encoding, t.Level, t.CreatedAt, t.ExpiresAt})
	}
	cw.Write([]string{"section", "purpose", "lawful_basis", "live", "granted_at", "expires_at", "revoked_at"})
	for _, c := range e.Consents {
		cw.Write([]string{"consent", c.Purpose, c.LawfulBasis, fmt.Sprint(c.Live), c.GrantedAt, c.ExpiresAt, c.RevokedAt})
	}
	cw.Write([]string{"section", "time", "caller", "purpose", "op", "class", "count", "decision"})
	for _, a := range e.AccessHistory {
		cw.Write([]string{"access", a.Time, a.Caller, a.Purpose, a.Op, a.Class, fmt.Sprint(a.Count), a.Decision})
	}
	cw.Flush()
	return cw.Error()
}

func subjectExportCmd() *cobra.Command {
	var format string
	cmd := clientCmd("export SUBJECT_ID [--format json|csv]", "Everything held about a subject, readable: values, classes, consents, access history", exactArgs(1, "one SUBJECT_ID"),
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&format, "format", "json", "json or csv")
		},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			if format != "json" && format != "csv" {
				return usagef("--format %q: want json or csv", format)
			}
			e, err := c.ExportSubjectAll(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := readableExport(args[0], time.Now(), e)
			if format == "csv" && !isJSON(cmd) {
				return exportCSV(cmd.OutOrStdout(), out)
			}
			return writeJSON(cmd.OutOrStdout(), out)
		})
	cmd.Long = `Export everything held about a data subject, as the answer to an access
(GDPR Art. 15) or portability (Art. 20) request: every stored token with
its value at the level your dsar grant allows (text decoded; binary classes
stay base64 and say so in "encoding"), the class and its description,
creation and expiry times, the subject's consent records, and who read the
subject's data (from the audit log). JSON by default; --format csv writes
a spreadsheet-friendly file. Vaultless (fpe) tokens are not stored and
cannot be listed.`
	cmd.Example = `  privacyvault subject export cust-42 > cust-42.json
  privacyvault subject export cust-42 --format csv > cust-42.csv`
	return cmd
}

func subjectRectifyCmd() *cobra.Command {
	var class string
	cmd := clientCmd("rectify --class CLASS TOKEN", "Replace the value behind a vaulted token (new value on stdin)", exactArgs(1, "one TOKEN"),
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&class, "class", "", "data class (required)")
			required(cmd, "class")
		},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			value, err := readValue(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if err := c.RectifyToken(cmd.Context(), class, args[0], value); err != nil {
				return err
			}
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"rectified": true, "class": class, "token": args[0]})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "rectified: the token now resolves to the new value")
			return err
		})
	cmd.Long = `Replace the value behind a vaulted token, keeping the token (GDPR Art. 16).
The corrected value is read from stdin, so it stays out of shell history.`
	cmd.Example = "  printf 'new@example.com\n' | privacyvault subject rectify --class email TOKEN"
	return cmd
}

func subjectEraseCmd() *cobra.Command {
	var receipt string
	return clientCmd("erase SUBJECT_ID [--receipt FILE]", "Crypto-shred a subject; prints (and writes) the signed receipt", exactArgs(1, "one SUBJECT_ID"),
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&receipt, "receipt", "", "also write the receipt to this file (mode 0600)")
		},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.EraseSubject(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return writeReceipt(cmd, r, receipt)
		})
}

func subjectDeleteTokenCmd() *cobra.Command {
	var class, receipt string
	cmd := clientCmd("delete-token --class CLASS TOKEN [--receipt FILE]", "Erase one vaulted value, with or without a subject; prints the signed receipt", exactArgs(1, "one TOKEN"),
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&class, "class", "", "data class of the token (required; random or deterministic)")
			cmd.Flags().StringVar(&receipt, "receipt", "", "also write the receipt to this file (mode 0600)")
			required(cmd, "class")
		},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.DeleteToken(cmd.Context(), class, args[0])
			if err != nil {
				return err
			}
			return writeReceipt(cmd, r, receipt)
		})
	cmd.Long = `Erase the value behind one vaulted token: the answer to an erasure request
for data that was tokenized without a subject id. The deletion is audited
before it takes effect; the token stops resolving at once, and a signed
receipt (kind "token") is printed, which verify-receipt checks offline.`
	cmd.Example = "  privacyvault subject delete-token --class notes pvt_... --receipt note-erasure.json"
	return cmd
}

// writeReceipt prints the receipt in its canonical JSON form (whatever
// --output says: a receipt has one form) and writes it to path if set.
func writeReceipt(cmd *cobra.Command, r *pb.ErasureReceipt, path string) error {
	b, err := audit.MarshalReceipt(receiptOf(r))
	if err != nil {
		return err
	}
	if path != "" {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	}
	_, err = cmd.OutOrStdout().Write(b)
	return err
}

// readValue reads one value from stdin, without its trailing newline.
func readValue(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no value on stdin")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	if !sc.Scan() {
		if sc.Err() != nil {
			return nil, sc.Err()
		}
		return nil, errors.New("no value on stdin")
	}
	return []byte(sc.Text()), nil
}

func receiptOf(r *pb.ErasureReceipt) audit.Receipt {
	return audit.Receipt{
		Subject: r.GetSubjectFp(), ErasedAt: r.GetErasedAt().AsTime(), Records: int(r.GetRecords()),
		Keys: int(r.GetSubjectKeys()), Consents: int(r.GetConsents()), KeyID: r.GetKeyId(), Signature: r.GetSignature(),
		Kind: r.GetKind(), Class: r.GetClass(), TokenFP: r.GetTokenFp(), Remains: r.GetRemains(),
	}
}

func subjectVerifyReceiptCmd() *cobra.Command {
	var path, pub string
	cmd := &cobra.Command{
		Use:   "verify-receipt --receipt FILE --public-key KEYS",
		Short: "Check an erasure or deletion receipt offline",
		Long: `Check a receipt's signature offline with the audit verification keys
(<data_dir>/audit-verification-keys.pem, or the output of audit
export-keys). Receipts are accepted in any form privacyvault produces: the
CLI's canonical JSON, or the API's JSON (camelCase, bare or as
{"receipt": ...}). Exit 0 valid, 1 INVALID, 3 COULD NOT BE VERIFIED.`,
		Args: noArgs,
	}
	cmd.Flags().StringVar(&path, "receipt", "", "the receipt file (required)")
	cmd.Flags().StringVar(&pub, "public-key", "", "the audit verification keys (required)")
	required(cmd, "receipt", "public-key")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		unverified := func(err error) error {
			return exitErr{code: exitUnverified, err: fmt.Errorf("receipt COULD NOT BE VERIFIED: %w", err)}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return unverified(err)
		}
		r, err := audit.ParseReceipt(b)
		if err != nil {
			return exitErr{code: exitTampered, err: fmt.Errorf("receipt INVALID: %w", err)}
		}
		v, err := audit.LoadEd25519Verifier(pub)
		if err != nil {
			return unverified(err)
		}
		if err := audit.VerifyReceipt(r, v); err != nil {
			if errors.Is(err, audit.ErrVerifierUnavailable) {
				return unverified(err)
			}
			return exitErr{code: exitTampered, err: fmt.Errorf("receipt INVALID: %w", err)}
		}
		if isJSON(cmd) {
			return writeJSON(cmd.OutOrStdout(), map[string]any{"ok": true, "kind": pick(r.Kind, audit.ReceiptSubject), "subjectFp": r.Subject,
				"class": r.Class, "tokenFp": r.TokenFP, "erasedAt": r.ErasedAt.UTC().Format(time.RFC3339), "records": r.Records, "keyId": r.KeyID,
				"remains": r.Remains})
		}
		if r.Kind == audit.ReceiptToken {
			fmt.Fprintf(cmd.OutOrStdout(), "receipt OK: token %s of class %s deleted at %s (%d records), signed by %s\n",
				r.TokenFP, r.Class, r.ErasedAt.Format(time.RFC3339), r.Records, r.KeyID)
			if r.Remains != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "what remains (signed): %s\n", r.Remains)
			}
			return nil
		}
		fmt.Fprintf(cmd.OutOrStdout(), "receipt OK: subject %s erased at %s (%d records, %d subject keys, %d consents), signed by %s\n",
			r.Subject, r.ErasedAt.Format(time.RFC3339), r.Records, r.Keys, r.Consents, r.KeyID)
		if r.Remains != "" {
			fmt.Fprintf(cmd.OutOrStdout(), "what remains (signed): %s\n", r.Remains)
		}
		return nil
	}
	return cmd
}

func purgeCmd() *cobra.Command {
	return clientCmd("purge", "Delete every record past its retention now (admins)", noArgs, nil,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			n, err := c.PurgeExpired(cmd.Context())
			if err != nil {
				return err
			}
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), &pb.PurgeExpiredResponse{Deleted: n})
			}
			total := uint64(0)
			for class, v := range n {
				total += v
				if v > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %d expired records deleted\n", class, v)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "purge: %d expired records deleted\n", total)
			return nil
		})
}
