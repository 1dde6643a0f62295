"""moto's S3 server, with GetObject sent from the object's temporary file and multipart uploads
completed file to file.

Stock moto (5.x) answers every GetObject with `key.value`: a copy of the whole object, ranged or
not, which the range handler then slices. Reading a 256 MiB part of a 3 GB object so costs 3 GB
of copying in the server, and on a local stack that swamps the client's CPU.

Here, while `S3Response.get_object` runs, `FakeKey.value` of an object that moto keeps in a
temporary file (over ~5 MB: moto's spooled buffer has rolled over) is a `FileSlice`: a lazy view
that moto's own range handler slices as it slices bytes (`len`, `[begin:end + 1]`), and that
werkzeug streams with `os.pread` in 4 MiB chunks. So a ranged GET reads only its range and a
whole GET streams the object without holding it. Everything else (status, headers, 206 and
Content-Range, suffix and open ranges, 416, conditional requests) is moto's own code. Small objects
stay in memory and take moto's usual path.

The view holds a duplicate of the temporary file's descriptor: an object overwritten or deleted
while it is being sent is still sent whole, as S3 does (the file is unlinked; its data lives until
the last descriptor closes).

Writes: moto's CompleteMultipartUpload reads every part into memory twice, joins them, copies the
result and writes it through an in-memory buffer that then rolls over to a file (six passes over
the object, and its size in RSS several times). Here, for uploads without an explicit checksum
algorithm (our clients send none), the parts are checked and the ETag built as moto does, the
full-object checksum moto would store is computed in one streaming pass, and the parts' files are
copied into the new object's file in the kernel (copy_file_range). Any object over the in-memory
limit is written straight to its file instead of through memory first.

Usage: python3 scripts/moto_ranged.py [moto_server arguments], e.g. -H 127.0.0.1 -p 5000
"""

import base64
import os
import sys
import tempfile
import threading

from moto.s3 import models, responses
from moto.server import main

try:
    from moto.core.compat import HAS_CRT  # whether moto's checksums use awscrt
except ImportError:
    HAS_CRT = None  # install() then leaves moto as shipped

CHUNK = 4 << 20
_in_get_object = threading.local()


class _Fd:
    """A descriptor shared by a FileSlice and the slices cut from it; closed once."""

    def __init__(self, fd):
        self.fd = fd

    def close(self):
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    __del__ = close


class FileSlice:
    """Bytes [start, stop) of a file, read only when iterated (WSGI body)."""

    def __init__(self, fd, start, stop):
        self._fd, self.start, self.stop = fd, start, stop

    def __len__(self):
        return self.stop - self.start

    def __bool__(self):
        return self.stop > self.start

    def __getitem__(self, s):
        if not isinstance(s, slice) or s.step not in (None, 1):
            raise TypeError("FileSlice supports contiguous slices only")
        r = range(self.start, self.stop)[s]
        return FileSlice(self._fd, r.start, max(r.start, r.stop))

    def __iter__(self):
        pos = self.start
        while pos < self.stop:
            chunk = os.pread(self._fd.fd, min(CHUNK, self.stop - pos), pos)
            if not chunk:
                raise IOError("object file ended early")
            pos += len(chunk)
            yield chunk

    def close(self):
        # werkzeug calls this when the response is sent (or the client went away)
        self._fd.close()


_value = getattr(models.FakeKey, "value", None)


def _lazy_value(key):
    buf = key._value_buffer
    if not getattr(_in_get_object, "on", False) or not getattr(buf, "_rolled", False):
        return _value.fget(key)
    with key.lock:
        buf._file.flush()  # pread reads the OS file, not Python's write buffer
        fd = os.dup(buf._file.fileno())
    return FileSlice(_Fd(fd), 0, key.size)


class Parts:
    """A completed multipart upload's bytes, already joined in a file: FakeKey takes the file over."""

    def __init__(self, buffer, size):
        self.buffer, self.size = buffer, size

    def __len__(self):
        return self.size


def _chunks(key):
    """A key's bytes, CHUNK at a time, without copying the whole."""
    buf = key._value_buffer
    if not buf._rolled:
        yield buf._file.getvalue()
        return
    with key.lock:
        buf._file.flush()
    fd = buf._file.fileno()
    for pos in range(0, key.size, CHUNK):
        yield os.pread(fd, min(CHUNK, key.size - pos), pos)


def _join(keys):
    """The parts' bytes copied into one new temporary file, file to file in the kernel."""
    joined = tempfile.SpooledTemporaryFile(models.get_s3_default_key_buffer_size())
    joined.rollover()
    dst, pos = joined._file.fileno(), 0
    for part in keys:
        src = part._value_buffer
        if src._rolled:
            with part.lock:
                src._file.flush()
            done = 0
            while done < part.size:  # copy_file_range may copy less than asked
                n = os.copy_file_range(src._file.fileno(), dst, part.size - done, done, pos + done)
                if n == 0:
                    raise IOError("part file ended early")
                done += n
        else:
            data = memoryview(src._file.getvalue())
            while data:
                data = data[os.pwrite(dst, data, pos + part.size - len(data)) :]
        pos += part.size
    joined.seek(pos)
    return Parts(joined, pos)


def _set_value(key, new_value):
    if isinstance(new_value, Parts):
        # complete() has joined the parts (they are disposed before the key is made): take the file
        key._value_buffer.close()
        key._value_buffer, key.contentsize = new_value.buffer, new_value.size
        return
    big = len(new_value) > key._max_buffer_size
    # Over the in-memory limit the buffer would roll over anyway, after copying: roll first.
    if big and not key._value_buffer._rolled:
        key._value_buffer.rollover()
    _value.fset(key, new_value)
    if big and key._etag is None and isinstance(new_value, bytes):
        # The MD5 that FakeKey.etag would compute later by reading the file back: from memory now.
        key._etag = models.md5_hash(new_value).hexdigest()


_complete = getattr(models.FakeMultipart, "complete", None)


def _full_object_checksum(keys):
    # What moto's MultipartChecksumBuilder stores by default (CRC64NVME, or CRC32 without awscrt),
    # computed a chunk at a time.
    crc = 0
    for key in keys:
        for chunk in _chunks(key):
            if HAS_CRT:
                from awscrt import checksums

                crc = checksums.crc64nvme(chunk, crc)
            else:
                import binascii

                crc = binascii.crc32(chunk, crc)
    raw = crc.to_bytes(8 if HAS_CRT else 4, "big")
    return base64.b64encode(raw).decode()


def _complete_by_files(self, body):
    if self.metadata.get("x-amz-checksum-algorithm") or self.metadata.get("x-amz-checksum-type"):
        return _complete(self, body)  # composite checksums etc.: moto's own path
    md5s = bytearray()
    keys = []
    for pn, etag in body:  # the checks and ETag of moto's FakeMultipart.complete
        part = self.parts.get(pn)
        if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
            raise models.InvalidPart()
        if keys and keys[-1].contentsize < models.S3_UPLOAD_PART_MIN_SIZE:
            raise models.EntityTooSmall()
        md5s.extend(bytes.fromhex(part.etag.replace('"', "")))
        keys.append(part)
    if not keys:
        raise models.MalformedXML
    etag = models.md5_hash()
    etag.update(bytes(md5s))
    return _join(keys), f"{etag.hexdigest()}-{len(keys)}", ("FULL_OBJECT", _full_object_checksum(keys), 1)


_get_object = getattr(responses.S3Response, "get_object", None)


def _get_object_lazily(self):
    # Only the body that get_object returns is lazy: every other use of key.value (copies,
    # multipart completion, select) still gets bytes.
    _in_get_object.on = True
    try:
        return _get_object(self)
    finally:
        _in_get_object.on = False


def install():
    """Patches moto; returns why not (then moto runs as shipped) when its internals differ."""
    import moto

    missing = [
        name
        for name, ok in [
            ("FakeKey.value setter", getattr(_value, "fset", None) is not None),
            ("FakeKey._value_buffer", "_value_buffer" in models.FakeKey.__init__.__code__.co_names),
            ("SpooledTemporaryFile._rolled", hasattr(tempfile.SpooledTemporaryFile(1), "_rolled")),
            ("S3Response.get_object", callable(_get_object)),
            ("FakeMultipart.complete", callable(_complete)),
            ("os.copy_file_range", hasattr(os, "copy_file_range")),
            ("moto.core.compat.HAS_CRT", HAS_CRT is not None),
        ]
        if not ok
    ]
    if missing:
        return f"moto {moto.__version__} lacks {', '.join(missing)}"
    models.FakeKey.value = property(_lazy_value, _set_value)
    models.FakeMultipart.complete = _complete_by_files
    responses.S3Response.get_object = _get_object_lazily
    return None


if __name__ == "__main__":
    why_not = install()
    if sys.argv[1:] == ["--check"]:  # scripts/setup.sh: can this moto be patched?
        print(why_not or "ok")
        sys.exit(1 if why_not else 0)
    if why_not:
        print(f"moto_ranged: {why_not}; serving with moto as shipped", file=sys.stderr)
    main(sys.argv[1:])
