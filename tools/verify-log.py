#!/usr/bin/env python3
"""Independent verifier for gridwall access-log exports (export format version 2).

Written from docs/LOG-FORMAT.md only (no gridwall code); the section "Verification, step by step" of that
page is followed in order, and the step numbers below refer to it.

    /usr/bin/python3 tools/verify-log.py FILE [--public-key PEM_FILE]... [--witness WITNESS_FILE] [--json]

Exit status: 0 the log verifies, 1 a break was found, 2 the file is not an export, cannot be read, or the
arguments are wrong. Needs Python 3.11 and `cryptography` (Debian: python3-cryptography).
"""
import argparse
import base64
import hashlib
import json
import re
import sys
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEX64 = re.compile(r'[0-9a-f]{64}\Z')
# A timestamp as the writer writes them; for two of these, order as strings is order in time (step 7).
TIMESTAMP = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z')
PEM_BLOCK = re.compile(rb'-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----', re.S)
# Members of seal and checkpoint lines with their types; all but `signature` are signed.
SHAPES = {
    'seal': {'firstSeq': int, 'seq': int, 'prevHash': str, 'hash': str, 'prevSeal': str, 'signedAt': str,
             'keyId': str, 'signature': str},
    'checkpoint': {'seq': int, 'hash': str, 'signedAt': str, 'keyId': str, 'signature': str},
}


class Unusable(Exception):
    """The input is not an export / cannot be read (exit status 2, not a break)."""


def _js_number(text):
    # JSON numbers as JavaScript sees them: 130.0 and 1.3e2 are the integer 130.
    value = float(text)
    return int(value) if value.is_integer() else value


def _no_constant(name):
    raise ValueError(f'{name} is not JSON')


def parse_json(data):
    """A JSON value from bytes (undecodable UTF-8 replaced, as a JavaScript reader would); None if not JSON."""
    try:
        return json.loads(data.decode('utf-8', 'replace'), parse_float=_js_number, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None


def canonical(value):
    """Canonical JSON (docs/LOG-FORMAT.md, Encodings) as UTF-8 bytes: sorted keys, no whitespace, JSON.stringify
    escaping (Python escapes the same characters, lower-case \\u00xx); lone surrogates escaped as \\udxxx."""
    text = json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return re.sub('[\ud800-\udfff]', lambda m: '\\u%04x' % ord(m.group()), text).encode('utf-8')


def same(a, b):
    """Equality as JavaScript's === for JSON values (True is not 1)."""
    return type(a) is type(b) and a == b


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def load_keys(pems, origin, keys, skipped):
    """Adds the Ed25519 keys among `pems` (bytes) to keys {keyId: key}; reports the others in `skipped`."""
    for number, pem in enumerate(pems, 1):
        try:
            key = serialization.load_pem_public_key(pem)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError(f'not an Ed25519 key ({type(key).__name__})')
        except Exception as error:  # a key that does not parse is skipped, never a crash
            skipped.append(f'{origin} key {number}: {error}')
            continue
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        keys[hashlib.sha256(der).hexdigest()[:16]] = key


def record(obj):
    """(kind, body) for a seal, checkpoint or closing line object; None for anything else."""
    if not isinstance(obj, dict) or len(obj) != 1:
        return None
    (kind, body), = obj.items()
    if not isinstance(body, dict) or kind not in ('seal', 'checkpoint', 'end'):
        return None
    for member, kind_of in SHAPES.get(kind, {}).items():
        if not isinstance(body.get(member), kind_of) or isinstance(body.get(member), bool):
            return None
    return kind, body


def signature_ok(kind, body, keys):
    key = keys.get(body['keyId'])
    if key is None:
        return False
    payload = canonical({m: body[m] for m in SHAPES[kind] if m != 'signature'})
    try:
        key.verify(base64.b64decode(body['signature'], validate=True), payload)
        return True
    except (InvalidSignature, ValueError):
        return False


def seal_digest(seal):
    """What the next seal names in prevSeal: SHA-256 over the canonical JSON of all eight members."""
    return hashlib.sha256(canonical({m: seal[m] for m in SHAPES['seal']})).hexdigest()


def event_seq(line):
    """The seq stated in an event line of the exact shape (step 2.1), else None."""
    if (len(line) < 160 or line[73:83] != b'","prev":"' or line[147:157] != b'","event":'
            or not line.endswith(b'}')):
        return None
    event = parse_json(line[157:-1])
    return event['seq'] if isinstance(event, dict) and is_int(event.get('seq')) else None


def read_witness(path):
    seals = []
    with open(path, 'rb') as lines:
        for number, raw in enumerate(lines, 1):
            if raw.strip():
                found = record(parse_json(raw))
                if found is None or found[0] != 'seal':
                    raise Unusable(f'{path}:{number}: not a seal line')
                seals.append(found[1])
    return seals


# A seal signed this long before the end of what an export claims must be in it (step 7): the margin covers a
# seal signed but not yet committed when the export read the log, a read replica's lag and two hosts' clocks.
WITNESS_MARGIN = timedelta(hours=2)


def instant(value):
    """A timestamp of the writer's one form that is a real instant from which the margin stays in year 1."""
    if not isinstance(value, str) or not TIMESTAMP.match(value) or value < '0001-01-01T02:00:00.000Z':
        return None
    try:
        return datetime.strptime(value, '%Y-%m-%dT%H:%M:%S.%fZ')
    except ValueError:
        return None


def stamp(t):
    return (f'{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.'
            f'{t.microsecond // 1000:03d}Z')


def claimed_until(header):
    """(until, sealed_before): every event written before its period's end ("to"), or before exportedAt for
    the log up to its head ("to": null) - the earlier - and so every seal signed before that less the margin;
    None when the header does not say it in timestamps of that form."""
    period = header.get('period')
    if not isinstance(period, dict) or 'to' not in period:
        return None
    at = instant(header.get('exportedAt'))
    to = at if period['to'] is None else instant(period['to'])
    if at is None or to is None:
        return None
    until = min(at, to)
    return stamp(until), stamp(until - WITNESS_MARGIN)


def strip_eol(raw):
    line = raw[:-1] if raw.endswith(b'\n') else raw
    return line[:-1] if line.endswith(b'\r') else line


def verify(path, given_keys, witness):
    """Steps 1-7 over the file at `path`; given_keys {keyId: key} or None for the header's keys."""
    result = {'ok': True, 'events': 0, 'firstSeq': None, 'lastSeq': None, 'firstBreak': None,
              'signaturesCheckedWith': 'given_keys' if given_keys is not None else 'keys_in_file', 'seals': 0}

    def brk(kind, seq, detail):
        if result['firstBreak'] is None:
            result['firstBreak'] = {'kind': kind, 'seq': seq, 'detail': detail}

    def sequence_break(s, due, detail):
        if s > due:
            brk('missing', due, f'{detail}: event {s} where {due} was due')
        elif s == due - 1:
            brk('inserted', s, f'{detail}: event {s} again where {due} was due')
        else:
            brk('out_of_order', s, f'{detail}: event {s} where {due} was due')

    with open(path, 'rb') as lines:
        header = parse_json(strip_eol(lines.readline()))                                  # step 1
        if not (isinstance(header, dict) and same(header.get('format'), 'gridwall-access-log')
                and same(header.get('version'), 2) and isinstance(header.get('anchor'), str)
                and HEX64.match(header['anchor']) and is_int(header.get('firstSeq'))):
            raise Unusable(f'{path}: line 1 is not a gridwall-access-log version 2 header')
        keys, skipped = given_keys, []
        if keys is None:
            keys, pems = {}, header.get('keys')
            pems = pems if isinstance(pems, list) else []
            load_keys([p.encode() if isinstance(p, str) else b'' for p in pems], 'header', keys, skipped)
        witness_seqs = {s['seq'] for s in witness}
        witness_hashes = {}
        start = due = header['firstSeq']                  # E
        head = header['anchor']                           # H
        covered, covered_hash = start - 1, head           # C and the hash of event C
        last_seal, last_digest = None, None               # the last seal and its digest (what the next names)
        seen_event = seen_seal = closed = False
        for raw in lines:
            line = strip_eol(raw)
            if not line:                                  # empty lines are ignored
                continue
            if line.startswith(b'{"hash":"'):             # lines are counted even after a break
                result['events'] += 1
                s = event_seq(line)
                if s is not None:
                    result['firstSeq'] = s if result['firstSeq'] is None else result['firstSeq']
                    result['lastSeq'] = s
            else:
                found = record(parse_json(line))
                result['seals'] += found is not None and found[0] == 'seal'
            if result['firstBreak'] is not None:
                continue
            if closed:                                                                    # step 4
                brk('malformed', due, 'line after the closing line')
            elif line.startswith(b'{"hash":"'):                                           # step 2
                first, seen_event = not seen_event, True
                prev = line[83:147].decode('utf-8', 'replace')
                if s is None:
                    brk('malformed', due, 'event line not of the exact shape')
                elif first and s != due:
                    sequence_break(s, due, 'first event line')
                elif prev != head:
                    if s == due:
                        brk('broken_link', due, 'prev is not the hash of the event before')
                    else:
                        sequence_break(s, due, 'prev does not link')
                else:
                    stated = line[9:73].decode('utf-8', 'replace')
                    if hashlib.sha256(line[75:-1]).hexdigest() != stated:
                        brk('modified', due, 'hash does not match the event line')
                    else:
                        if due in witness_seqs:
                            witness_hashes[due] = stated
                        head, due = stated, due + 1
            else:
                if found is None:                                                         # step 5
                    brk('malformed', due, 'not an event, seal, checkpoint or closing line')
                elif found[0] == 'end':                                                   # step 4
                    closed, end, count = True, found[1], result['events']
                    if not (same(end.get('events'), count)
                            and same(end.get('lastSeq'), due - 1 if count else None)
                            and same(end.get('lastHash'), head if count else None)):
                        brk('malformed', due, 'closing line does not match the events read')
                else:                                                                     # step 3
                    kind, seal = found
                    seq = seal['seq']
                    if not seen_event or seq != due - 1:
                        brk('malformed', seq, f'{kind} not right after event {seq} (moved)')
                    elif seal['hash'] != head:
                        brk('checkpoint_mismatch', seq, f'{kind} hash is not the hash of event {seq}')
                    elif kind == 'checkpoint' and not signature_ok(kind, seal, keys):
                        brk('bad_signature', seq, f'{kind} signature does not verify with a trusted key'
                            + ('' if seal['keyId'] in keys else f' (unknown keyId {seal["keyId"]})'))
                    elif kind == 'seal':
                        first_seq = seal['firstSeq']
                        if first_seq != covered + 1 and not (not seen_seal and first_seq < start):
                            if first_seq > covered + 1:
                                brk('unsealed', covered + 1, f'no seal covers events {covered + 1}-{first_seq - 1}')
                            else:
                                brk('unsealed', first_seq, f'seal overlaps the previous one (ends at {covered})')
                        elif first_seq - 1 >= start - 1 and seal['prevHash'] != covered_hash:
                            brk('broken_link', first_seq, 'seal prevHash is not the hash before its batch')
                        elif last_digest is not None and seal['prevSeal'] != last_digest:
                            # The two seals do not chain: the one whose signature fails was changed; when
                            # both verify, the later one names another seal than the one before it.
                            if not signature_ok('seal', last_seal, keys):
                                brk('bad_signature', last_seal['seq'], f'seal {last_seal["seq"]} was changed')
                            else:
                                brk('bad_signature', seq, f'seal {seq} does not name the seal before it')
                        else:
                            covered, covered_hash = seq, seal['hash']
                            last_seal, last_digest = seal, seal_digest(seal)
                        seen_seal = True
    if result['firstBreak'] is None:                                                      # step 6
        if not closed:
            brk('truncated', due, 'no closing line: the file was cut off')
        elif covered < due - 1:
            brk('unsealed', covered + 1, f'events {covered + 1}-{due - 1} follow the last seal')
        elif last_seal is not None and not signature_ok('seal', last_seal, keys):
            brk('bad_signature', last_seal['seq'], 'the last seal does not verify with a trusted key'
                + ('' if last_seal['keyId'] in keys else f' (unknown keyId {last_seal["keyId"]})'))
    if result['firstBreak'] is None:                                                      # step 7
        claimed = claimed_until(header)
        for seal in witness:
            seq = seal['seq']
            # Before the file's events: not this file's. After them: written later — unless signed well before
            # the end of what the file claims (a cut).
            cut = (claimed is not None and TIMESTAMP.match(seal['signedAt'])
                   and seal['signedAt'] < claimed[1])
            if seq < start or (seq > due - 1 and not cut):
                continue
            if not signature_ok('seal', seal, keys):
                brk('bad_signature', seq, 'witness seal signature does not verify with a trusted key')
            elif seq > due - 1:
                brk('truncated', due, f'witness seal for event {seq}, signed {seal["signedAt"]}, before the end '
                    f'of what this export claims ({claimed[0]}, less the margin), but the export ends at {due - 1}')
            elif seal['hash'] != witness_hashes[seq]:
                brk('checkpoint_mismatch', seq, f'witness seal hash differs from event {seq}')
            if result['firstBreak'] is not None:
                break
    result['ok'] = result['firstBreak'] is None
    return result, skipped


def summary(result):
    span = f"{result['events']} events" + (f" (seq {result['firstSeq']}-{result['lastSeq']})"
                                           if result['firstSeq'] is not None else '')
    keys = ('the given public keys' if result['signaturesCheckedWith'] == 'given_keys'
            else "the file's own header keys (NOT independent: pass --public-key)")
    b = result['firstBreak']
    verdict = 'OK' if b is None else f"BREAK {b['kind']} at seq {b['seq']} ({b['detail']})"
    return f"{verdict}: {span}, {result['seals']} seals; signatures checked with {keys}"


def main(argv=None):
    parser = argparse.ArgumentParser(description='Verify a gridwall access-log export (docs/LOG-FORMAT.md).')
    parser.add_argument('file')
    parser.add_argument('--public-key', action='append', default=[], metavar='PEM_FILE')
    parser.add_argument('--witness', metavar='WITNESS_FILE')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    try:
        given, skipped = None, []
        if args.public_key:
            given = {}
            for key_file in args.public_key:
                with open(key_file, 'rb') as f:
                    pems = PEM_BLOCK.findall(f.read())
                if not pems:
                    skipped.append(f'{key_file}: no PEM public key in the file')
                load_keys(pems, key_file, given, skipped)
        witness = read_witness(args.witness) if args.witness else []
        result, skipped_in_file = verify(args.file, given, witness)
    except (OSError, Unusable) as error:
        print(f'verify-log: {error}', file=sys.stderr)
        return 2
    for message in skipped + skipped_in_file:
        print(f'verify-log: skipped {message}', file=sys.stderr)
    print(json.dumps(result) if args.json else summary(result))
    return 0 if result['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
