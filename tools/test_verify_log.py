"""Self-test of tools/verify-log.py, without gridwall's writer: a tiny generator of version-2 exports
(docs/LOG-FORMAT.md) and one test per kind of tampering.

    /usr/bin/python3 -m unittest tools/test_verify_log.py
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VERIFIER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'verify-log.py')
ZERO = '0' * 64
BATCHES = [3, 1, 5, 2, 4]          # events 1-3, 4, 5-9, 10-11, 12-15


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


class Key:
    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        pub = self.private.public_key()
        self.pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.id = hashlib.sha256(der).hexdigest()[:16]

    def seal(self, first_seq, seq, prev_hash, hash_, kind='seal', prev_seal=ZERO, signed_at='2026-11-26T05:00:00.000Z'):
        body = {'seq': seq, 'hash': hash_, 'signedAt': signed_at, 'keyId': self.id}
        if kind == 'seal':
            body.update(firstSeq=first_seq, prevHash=prev_hash, prevSeal=prev_seal)
        body['signature'] = base64.b64encode(self.private.sign(canon(body))).decode()
        return canon({kind: body})


def digest(seal_line):
    """The digest the next seal names: SHA-256 over the canonical JSON of all the seal's members."""
    return hashlib.sha256(canon(json.loads(seal_line)['seal'])).hexdigest()


def event_line(prev, event):
    run = b'"prev":"' + prev.encode() + b'","event":' + canon(event)
    hash_ = hashlib.sha256(run).hexdigest()
    return b'{"hash":"' + hash_.encode() + b'",' + run + b'}', hash_


def event(seq, salt=''):
    return {'seq': seq, 'at': '2026-11-26T05:00:%02d.000Z' % (seq % 60), 'actor': f'user{seq}{salt}',
            'action': 'read', 'fields': ['iban', 'adres'], 'note': 'Zählpunkt "ü" \\ \t'}


def build(key, batches=BATCHES, salt=''):
    """The whole log: body lines (events and seals, in order) and the hash of every seq (0: the anchor)."""
    lines, hashes, seq, prev_seal = [], {0: ZERO}, 0, ZERO
    for size in batches:
        first = seq + 1
        for _ in range(size):
            seq += 1
            line, hashes[seq] = event_line(hashes[seq - 1], event(seq, salt))
            lines.append(line)
        lines.append(key.seal(first, seq, hashes[first - 1], hashes[seq], prev_seal=prev_seal))
        prev_seal = digest(lines[-1])
    return lines, hashes


def rechain(lines, start, prev):
    """Re-hash the event lines from index `start` on, as an attacker with write access would."""
    for i in range(start, len(lines)):
        if lines[i].startswith(b'{"hash":'):
            lines[i], prev = event_line(prev, json.loads(lines[i][157:-1]))
    return lines


def closing(lines):
    events = [json.loads(l) for l in lines if l.startswith(b'{"hash":')]
    last = events[-1] if events else None
    return canon({'end': {'events': len(events), 'lastSeq': last and last['event']['seq'],
                          'lastHash': last and last['hash']}})


def is_seal(line, seq):
    return line.startswith(b'{"seal":') and json.loads(line)['seal']['seq'] == seq


def index_of_event(lines, seq):
    return next(i for i, l in enumerate(lines) if l.startswith(b'{"hash":') and json.loads(l)['event']['seq'] == seq)


class VerifyLogTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.key, self.other = Key(), Key()
        self.lines, self.hashes = build(self.key)
        self.key_file = self.write('key.pem', [self.key.pem.rstrip(b'\n')])

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, lines, eol=b'\n'):
        path = os.path.join(self.dir.name, name)
        with open(path, 'wb') as f:
            f.write(b''.join(l + eol for l in lines))
        return path

    def export(self, lines=None, keys=None, first_seq=1, anchor=ZERO, close=True, after=(), period_to=None,
               exported_at='2026-11-26T06:00:00.000Z'):
        lines = self.lines if lines is None else lines
        header = {'format': 'gridwall-access-log', 'version': 2, 'exportedAt': exported_at,
                  'period': {'from': None, 'to': period_to}, 'firstSeq': first_seq, 'anchor': anchor,
                  'keys': [k.pem.decode() for k in (keys or [self.key])]}
        return self.write('export.jsonl', [canon(header)] + lines + ([closing(lines)] if close else []) + list(after))

    def run_verifier(self, path, *args):
        done = subprocess.run([sys.executable, VERIFIER, path, '--json', *args], capture_output=True, text=True)
        self.assertIn(done.returncode, (0, 1), done.stderr)
        result = json.loads(done.stdout)
        self.assertEqual(done.returncode, 0 if result['ok'] else 1)
        return result

    def assertBreak(self, path, kind, seq, *args):
        result = self.run_verifier(path, *args)
        self.assertFalse(result['ok'], result)
        self.assertEqual((result['firstBreak']['kind'], result['firstBreak']['seq']), (kind, seq), result)
        return result

    def assertOk(self, path, *args):
        result = self.run_verifier(path, *args)
        self.assertTrue(result['ok'], result)
        return result

    # -- untouched files --------------------------------------------------------------------------------
    def test_untouched_file_is_ok(self):
        result = self.assertOk(self.export())
        self.assertEqual((result['events'], result['firstSeq'], result['lastSeq'], result['seals']), (15, 1, 15, 5))
        self.assertEqual(result['signaturesCheckedWith'], 'keys_in_file')
        self.assertEqual(self.assertOk(self.export(), '--public-key', self.key_file)['signaturesCheckedWith'],
                         'given_keys')

    def test_crlf_and_human_output(self):
        with open(self.export(), 'rb') as f:
            path = self.write('crlf.jsonl', f.read().splitlines(), eol=b'\r\n')
        self.assertOk(path)
        done = subprocess.run([sys.executable, VERIFIER, path], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0)
        self.assertTrue(done.stdout.startswith('OK: 15 events'), done.stdout)

    def test_export_starting_inside_a_batch(self):
        start = index_of_event(self.lines, 6)     # the batch 5-9 began before the export
        path = self.export(self.lines[start:], first_seq=6, anchor=self.hashes[5])
        self.assertEqual(self.assertOk(path)['firstSeq'], 6)
        # the same file claiming to start at the log's start is a broken link at 6 (prev is event 5's hash)
        self.assertBreak(self.export(self.lines[start:], first_seq=6, anchor=ZERO), 'broken_link', 6)
        # the first event line is checked for its seq before its link: a header one event early
        self.assertBreak(self.export(self.lines[start + 1:], first_seq=6, anchor=self.hashes[6]), 'missing', 6)

    def test_legacy_checkpoint_lines(self):
        lines = list(self.lines)
        lines.insert(index_of_event(lines, 2) + 1, self.key.seal(None, 2, None, self.hashes[2], 'checkpoint'))
        self.assertOk(self.export(lines), '--public-key', self.key_file)
        lines[index_of_event(lines, 2) + 1] = self.key.seal(None, 2, None, self.hashes[1], 'checkpoint')
        self.assertBreak(self.export(lines), 'checkpoint_mismatch', 2)

    # -- event lines ------------------------------------------------------------------------------------
    def test_event_modified(self):
        lines = list(self.lines)
        i = index_of_event(lines, 7)
        lines[i] = lines[i].replace(b'user7', b'user8')
        self.assertBreak(self.export(lines), 'modified', 7)

    def test_event_modified_and_rehashed(self):
        lines = list(self.lines)
        i = index_of_event(lines, 7)
        lines[i] = event_line(self.hashes[6], dict(event(7), actor='mallory'))[0]
        self.assertBreak(self.export(lines), 'broken_link', 8)

    def test_event_deleted(self):
        lines = list(self.lines)
        del lines[index_of_event(lines, 6)]
        self.assertBreak(self.export(lines), 'missing', 6)

    def test_events_swapped(self):
        # The first misplaced line states a later seq than the one due: step 2.2 calls that `missing`.
        lines = list(self.lines)
        i, j = index_of_event(lines, 6), index_of_event(lines, 8)
        lines[i], lines[j] = lines[j], lines[i]
        self.assertBreak(self.export(lines), 'missing', 6)

    def test_event_replayed(self):
        lines = list(self.lines)
        lines.insert(index_of_event(lines, 7) + 1, lines[index_of_event(lines, 7)])
        self.assertBreak(self.export(lines), 'inserted', 7)
        lines = list(self.lines)
        lines.insert(index_of_event(lines, 7) + 1, lines[index_of_event(lines, 3)])
        self.assertBreak(self.export(lines), 'out_of_order', 3)

    def test_made_up_event_rehashed_and_unsealed(self):
        # inserted after the seal of batch 5-9, later events renumbered and re-hashed, later seals dropped
        lines = [l for l in self.lines if not (l.startswith(b'{"seal":') and json.loads(l)['seal']['seq'] > 9)]
        i = next(k for k, l in enumerate(lines) if is_seal(l, 9)) + 1
        for k in range(i, len(lines)):
            e = json.loads(lines[k][157:-1])
            lines[k] = event_line(ZERO, dict(e, seq=e['seq'] + 1))[0]
        lines.insert(i, event_line(ZERO, dict(event(10), actor='made-up'))[0])
        self.assertBreak(self.export(rechain(lines, i, self.hashes[9])), 'unsealed', 10)
        # appended after the last seal
        lines = list(self.lines) + [event_line(self.hashes[15], event(16))[0]]
        self.assertBreak(self.export(lines), 'unsealed', 16)

    # -- seal lines -------------------------------------------------------------------------------------
    def test_seal_removed(self):
        self.assertBreak(self.export([l for l in self.lines if not is_seal(l, 9)]), 'unsealed', 5)
        self.assertBreak(self.export([l for l in self.lines if not is_seal(l, 15)]), 'unsealed', 12)

    def test_seal_duplicated_overlaps(self):
        lines = list(self.lines)
        i = next(k for k, l in enumerate(lines) if is_seal(l, 9))
        lines.insert(i, lines[i])
        self.assertBreak(self.export(lines), 'unsealed', 5)

    def test_seal_bad_signature(self):
        lines = list(self.lines)
        i = next(k for k, l in enumerate(lines) if is_seal(l, 9))
        seal = json.loads(lines[i])
        sig = bytearray(base64.b64decode(seal['seal']['signature']))
        sig[5] ^= 1
        seal['seal']['signature'] = base64.b64encode(bytes(sig)).decode()
        lines[i] = canon(seal)
        self.assertBreak(self.export(lines), 'bad_signature', 9)

    def test_seal_signed_by_untrusted_key(self):
        lines = list(self.lines)
        i = next(k for k, l in enumerate(lines) if is_seal(l, 15))
        lines[i] = self.other.seal(12, 15, self.hashes[11], self.hashes[15], prev_seal=json.loads(lines[i])['seal']['prevSeal'])
        self.assertBreak(self.export(lines), 'bad_signature', 15)                       # unknown keyId
        both = self.export(lines, keys=[self.key, self.other])
        self.assertOk(both)                                                           # header keys trusted
        self.assertBreak(both, 'bad_signature', 15, '--public-key', self.key_file)

    def test_middle_seal_replaced(self):
        lines = list(self.lines)
        i = next(k for k, l in enumerate(lines) if is_seal(l, 11))
        # A seal for 10-11 by another key that names no seal before it: it is the one that does not chain.
        lines[i] = self.other.seal(10, 11, self.hashes[9], self.hashes[11])
        self.assertBreak(self.export(lines, keys=[self.key, self.other]), 'bad_signature', 11)
        # The same seal, chained correctly: the next seal names the original, and this one is validly signed.
        lines[i] = self.other.seal(10, 11, self.hashes[9], self.hashes[11], prev_seal=json.loads(self.lines[i])['seal']['prevSeal'])
        self.assertBreak(self.export(lines, keys=[self.key, self.other]), 'bad_signature', 15)

    def test_seal_wrong_prev_hash(self):
        lines = list(self.lines)
        i = next(k for k, l in enumerate(lines) if is_seal(l, 11))
        lines[i] = self.key.seal(10, 11, self.hashes[8], self.hashes[11])
        self.assertBreak(self.export(lines), 'broken_link', 10)

    def test_header_keys_replaced_and_seals_resigned(self):
        lines, _ = build(self.other)                  # same events, every seal re-signed by the attacker
        self.assertEqual([l for l in lines if l.startswith(b'{"hash"')],
                         [l for l in self.lines if l.startswith(b'{"hash"')])
        path = self.export(lines, keys=[self.other])
        self.assertEqual(self.assertOk(path)['signaturesCheckedWith'], 'keys_in_file')
        result = self.assertBreak(path, 'bad_signature', 15, '--public-key', self.key_file)  # the last seal
        self.assertEqual(result['signaturesCheckedWith'], 'given_keys')

    def test_seal_moved_after_later_event(self):
        lines = list(self.lines)
        i = next(k for k, l in enumerate(lines) if is_seal(l, 9))
        lines.insert(i + 1, lines.pop(i))             # now after event 10
        self.assertBreak(self.export(lines), 'malformed', 9)

    # -- the end of the file ----------------------------------------------------------------------------
    def test_truncated(self):
        self.assertBreak(self.export(close=False), 'truncated', 16)
        cut = next(k for k, l in enumerate(self.lines) if is_seal(l, 9)) + 1
        self.assertBreak(self.export(self.lines[:cut], close=False), 'truncated', 10)

    def test_closing_line_wrong_or_followed(self):
        self.assertBreak(self.export(after=[b'{"note":"more"}']), 'malformed', 16)
        self.assertBreak(self.export(after=[self.lines[0]]), 'malformed', 16)
        path = self.export(close=False, after=[canon({'end': {'events': 14, 'lastSeq': 15,
                                                              'lastHash': self.hashes[15]}})])
        self.assertBreak(path, 'malformed', 16)
        path = self.export(close=False, after=[canon({'end': {'events': 15, 'lastSeq': 15,
                                                              'lastHash': self.hashes[14]}})])
        self.assertBreak(path, 'malformed', 16)

    # -- witness ----------------------------------------------------------------------------------------
    def witness(self, seals):
        return self.write('witness.jsonl', seals)

    def test_witness_consistent(self):
        seals = [l for l in self.lines if l.startswith(b'{"seal":')]
        self.assertOk(self.export(), '--witness', self.witness(seals))
        start = index_of_event(self.lines, 6)        # seals before the file's first event are not checked
        partial = self.export(self.lines[start:], first_seq=6, anchor=self.hashes[5])
        self.assertOk(partial, '--witness', self.witness(seals), '--public-key', self.key_file)

    def test_witness_seal_beyond_end_of_a_period(self):
        cut = next(k for k, l in enumerate(self.lines) if is_seal(l, 9)) + 1
        path = self.export(self.lines[:cut], period_to='2026-11-26T00:00:00.000Z')
        self.assertOk(path)
        seals = [l for l in self.lines if l.startswith(b'{"seal":')]
        # A bounded period: seals past the file's end signed after it ended belong to later events, not a break.
        result = self.assertOk(path, '--witness', self.witness(seals))
        self.assertEqual(result['events'], 9)
        # Signed more than two hours before the period's end (seals at 05:00, the period to 08:00): a cut.
        short = self.export(self.lines[:cut], period_to='2026-11-26T08:00:00.000Z', exported_at='2026-11-27T00:00:00.000Z')
        self.assertBreak(short, 'truncated', 10, '--witness', self.witness(seals))

    def test_witness_seal_beyond_end_of_the_log_up_to_its_head(self):
        cut = next(k for k, l in enumerate(self.lines) if is_seal(l, 9)) + 1
        path = self.export(self.lines[:cut], exported_at='2026-11-26T08:00:00.000Z')  # "to": null; seals signed 05:00
        self.assertOk(path)
        seals = [l for l in self.lines if l.startswith(b'{"seal":')]
        # It claims the whole log as of 08:00, but the witness has seals past it signed more than the margin
        # (two hours) before: a cut tail.
        result = self.assertBreak(path, 'truncated', 10, '--witness', self.witness(seals))
        self.assertIn('11', result['firstBreak']['detail'])
        # Seals past the end signed within the margin before the export (07:00: perhaps not yet committed when
        # it read the log) or after it are not held against it.
        def signed_at_seven(line):
            s = json.loads(line)['seal']
            return self.key.seal(s['firstSeq'], s['seq'], s['prevHash'], s['hash'], prev_seal=s['prevSeal'],
                                 signed_at='2026-11-26T07:00:00.000Z')
        later = [l if json.loads(l)['seal']['seq'] <= 9 else signed_at_seven(l) for l in seals]
        self.assertOk(path, '--witness', self.witness(later))
        # An exportedAt that is not a timestamp says nothing about when: as a bounded period.
        self.assertOk(self.export(self.lines[:cut], exported_at='yesterday'), '--witness', self.witness(seals))
        # Nor does one of that form that is no instant (no 30 February).
        self.assertOk(self.export(self.lines[:cut], exported_at='2026-02-30T08:00:00.000Z'), '--witness', self.witness(seals))
        # Exported 06:00, one hour after the seals: within the margin, not held against it.
        self.assertOk(self.export(self.lines[:cut]), '--witness', self.witness(seals))
        # A seal past the end that is not validly signed, signed before: bad_signature, as within the file.
        forged = self.other.seal(10, 11, self.hashes[9], self.hashes[11])
        self.assertBreak(self.export(self.lines[:cut], exported_at='2026-11-26T08:00:00.000Z'), 'bad_signature', 11,
                         '--witness', self.witness([forged]))

    def test_witness_seal_with_other_hash(self):
        rewritten, _ = build(self.key, salt='-rewritten')    # chain rewound and rewritten, signed by the key
        seal = next(l for l in rewritten if is_seal(l, 9))
        self.assertBreak(self.export(), 'checkpoint_mismatch', 9, '--witness', self.witness([seal]))
        forged = self.other.seal(5, 9, self.hashes[4], self.hashes[9])
        self.assertBreak(self.export(), 'bad_signature', 9, '--witness', self.witness([forged]))

    def test_file_break_comes_before_witness(self):
        seal = self.other.seal(5, 9, self.hashes[4], self.hashes[9])
        self.assertBreak(self.export(close=False), 'truncated', 16, '--witness', self.witness([seal]))

    # -- errors ---------------------------------------------------------------------------------------
    def test_not_an_export_and_bad_arguments(self):
        for args in ([self.write('x.jsonl', [b'{"format":"other"}'])],
                     [self.write('empty.jsonl', [])],
                     [os.path.join(self.dir.name, 'absent.jsonl')],
                     [self.export(), '--public-key', os.path.join(self.dir.name, 'absent.pem')],
                     [self.export(), '--witness', self.write('w.jsonl', [b'not a seal'])],
                     [self.export(), '--no-such-option'],
                     []):
            done = subprocess.run([sys.executable, VERIFIER, *args, '--json'], capture_output=True, text=True)
            self.assertEqual(done.returncode, 2, (args, done.stdout, done.stderr))
            self.assertTrue(done.stderr)

    def test_unparseable_keys_are_skipped_and_reported(self):
        bad = self.write('bad.pem', [b'-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'])
        done = subprocess.run([sys.executable, VERIFIER, self.export(), '--json', '--public-key', bad,
                               '--public-key', self.key_file], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn('skipped', done.stderr)
        path = self.export()
        with open(path, 'rb') as f:
            data = f.read().replace(b'"keys":[', b'"keys":["garbage",', 1)
        with open(path, 'wb') as f:
            f.write(data)
        done = subprocess.run([sys.executable, VERIFIER, path, '--json'], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn('header key 1', done.stderr)


if __name__ == '__main__':
    unittest.main()
