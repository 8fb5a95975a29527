package org.ldm4j.weights;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle interpreter that evaluates only data: it builds strings, numbers, lists, tuples and dicts itself, and
 * leaves every {@code GLOBAL} to a {@link Globals} allow-list, which returns a Java stand-in (a {@link Function} or a
 * marker) or throws. Nothing named by the stream is ever loaded or run, and a forbidden global fails at the opcode
 * that names it, before any {@code REDUCE} could apply it.
 *
 * <p>Opcodes follow CPython's {@code Lib/pickle.py} / {@code pickletools.py}: the binary opcodes of protocols 2-5 that
 * {@code torch.save} emits for state dicts (PROTO, FRAME, MARK, EMPTY_DICT/LIST/TUPLE, TUPLE1-3, TUPLE,
 * BINUNICODE(8), SHORT_BINUNICODE, BININT(1/2), LONG1/4, BINFLOAT, NEWTRUE/NEWFALSE, NONE, BINBYTES(8), SHORT_BINBYTES,
 * GLOBAL, STACK_GLOBAL, REDUCE, BUILD, SETITEM(S), APPEND(S), BINPUT, LONG_BINPUT, BINGET, LONG_BINGET, MEMOIZE,
 * BINPERSID, POP, POP_MARK, DUP, STOP). Any other opcode (text protocol 0, NEWOBJ, EXT*, INST, OBJ, ...) is refused
 * with its byte and position. Every length read from the stream is checked against the bytes that remain, so a
 * corrupt or hostile length never allocates more than the stream itself.
 */
final class PickleReader {
    /** Maps a global reference to its stand-in, or throws for anything not on the allow-list. */
    interface Globals { Object resolve(String module, String name); }

    /** A callable stand-in: what {@code REDUCE} applies to its argument tuple. */
    interface Function { Object apply(Tuple args); }

    /** Turns a {@code BINPERSID} id (torch: a storage descriptor tuple) into an object. */
    interface PersistentLoader { Object load(Object pid); }

    /** An immutable pickle tuple (distinct from a list, which is mutable). */
    record Tuple(List<Object> items) {
        Tuple { items = Collections.unmodifiableList(new ArrayList<>(items)); }

        int size() { return items.size(); }

        Object get(int i) { return items.get(i); }
    }

    /** The state a {@code BUILD} opcode attached to a dict (e.g. a state dict's {@code _metadata}); kept, never applied. */
    static final class Dict extends java.util.LinkedHashMap<Object, Object> {
        Object buildState;
    }

    private static final Object MARK_SENTINEL = new Object();

    private final byte[] data;
    private final String where;
    private final Globals globals;
    private final PersistentLoader persistent;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private PickleReader(byte[] data, String where, Globals globals, PersistentLoader persistent) {
        this.data = data;
        this.where = where;
        this.globals = globals;
        this.persistent = persistent;
    }

    /** Evaluates one pickle; {@code where} names the stream in error messages. */
    static Object load(byte[] data, String where, Globals globals, PersistentLoader persistent) {
        return new PickleReader(data, where, globals, persistent).run();
    }

    private Object run() {
        while (true) {
            if (pos >= data.length) throw bad("stream ended without STOP");
            int at = pos;
            int op = data[pos++] & 0xff;
            switch (op) {
                case 0x80 -> {                                   // PROTO
                    int v = u8();
                    if (v > 5) throw bad("unsupported pickle protocol " + v);
                }
                case 0x95 -> skip(8);                            // FRAME: a length hint only
                case '(' -> { marks.add(stack.size()); }         // MARK
                case '}' -> push(new Dict());                    // EMPTY_DICT
                case ']' -> push(new ArrayList<>());             // EMPTY_LIST
                case ')' -> push(new Tuple(List.of()));          // EMPTY_TUPLE
                case 't' -> push(new Tuple(popMark()));          // TUPLE
                case 0x85 -> push(new Tuple(popN(1)));           // TUPLE1
                case 0x86 -> push(new Tuple(popN(2)));           // TUPLE2
                case 0x87 -> push(new Tuple(popN(3)));           // TUPLE3
                case 'X' -> push(utf8(length(u32())));           // BINUNICODE
                case 0x8c -> push(utf8(u8()));                   // SHORT_BINUNICODE
                case 0x8d -> push(utf8(length(u64())));          // BINUNICODE8
                case 'B' -> push(bytes(length(u32())));          // BINBYTES
                case 'C' -> push(bytes(u8()));                   // SHORT_BINBYTES
                case 0x8e -> push(bytes(length(u64())));         // BINBYTES8
                case 'J' -> push((long) buffer(4).getInt());     // BININT
                case 'K' -> push((long) u8());                   // BININT1
                case 'M' -> push((long) (buffer(2).getShort() & 0xffff));   // BININT2
                case 0x8a -> push(longBytes(u8()));              // LONG1
                case 0x8b -> push(longBytes(length(u32())));     // LONG4
                case 'G' -> push(buffer(8).order(ByteOrder.BIG_ENDIAN).getDouble());   // BINFLOAT is big-endian
                case 0x88 -> push(Boolean.TRUE);                 // NEWTRUE
                case 0x89 -> push(Boolean.FALSE);                // NEWFALSE
                case 'N' -> push(null);                          // NONE
                case 'c' -> push(global(line(), line(), at));    // GLOBAL
                case 0x93 -> {                                   // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw bad("STACK_GLOBAL at byte " + at + " needs two strings");
                    }
                    push(global(m, n, at));
                }
                case 'R' -> {                                    // REDUCE
                    Object args = pop(), f = pop();
                    if (!(f instanceof Function fn)) throw bad("REDUCE at byte " + at + " applies a non-callable " + describe(f));
                    if (!(args instanceof Tuple t)) throw bad("REDUCE at byte " + at + " with arguments that are not a tuple");
                    try {
                        push(fn.apply(t));
                    } catch (WeightFormatException e) {
                        throw new WeightFormatException(where + ", REDUCE at byte " + at + ": " + e.getMessage(), e);
                    }
                }
                case 'b' -> {                                    // BUILD
                    Object state = pop();
                    if (!(top() instanceof Dict d)) throw bad("BUILD at byte " + at + " on " + describe(top()) + " (only dict state is accepted)");
                    d.buildState = state;
                }
                case 's' -> {                                    // SETITEM
                    Object v = pop(), k = pop();
                    dict(top(), at).put(hashable(k, at, 0), v);
                }
                case 'u' -> {                                    // SETITEMS
                    List<Object> kv = popMark();
                    if (kv.size() % 2 != 0) throw bad("SETITEMS at byte " + at + " with an odd number of items");
                    Map<Object, Object> d = dict(top(), at);
                    for (int i = 0; i < kv.size(); i += 2) d.put(hashable(kv.get(i), at, 0), kv.get(i + 1));
                }
                case 'a' -> { Object v = pop(); list(top(), at).add(v); }                  // APPEND
                case 'e' -> { List<Object> vs = popMark(); list(top(), at).addAll(vs); }   // APPENDS
                case 'q' -> memo.put((long) u8(), top());        // BINPUT
                case 'r' -> memo.put(u32(), top());              // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), top());   // MEMOIZE
                case 'h' -> push(memoGet(u8(), at));             // BINGET
                case 'j' -> push(memoGet(u32(), at));            // LONG_BINGET
                case 'Q' -> push(persistent.load(pop()));        // BINPERSID
                case '0' -> pop();                               // POP
                case '1' -> popMark();                           // POP_MARK
                case '2' -> push(top());                         // DUP
                case '.' -> {                                    // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) throw bad("STOP with " + stack.size() + " items on the stack");
                    return stack.get(0);
                }
                default -> throw bad(String.format("unsupported pickle opcode 0x%02x ('%s') at byte %d", op,
                        op >= 0x20 && op < 0x7f ? Character.toString(op) : "?", at));
            }
        }
    }

    private Object global(String module, String name, int at) {
        try {
            return globals.resolve(module, name);
        } catch (WeightFormatException e) {
            throw new WeightFormatException(where + ", byte " + at + ": " + e.getMessage(), e);
        }
    }

    private Object memoGet(long key, int at) {
        if (!memo.containsKey(key)) throw bad("memo key " + key + " read at byte " + at + " was never stored");
        return memo.get(key);
    }

    /** Deepest tuple nesting accepted in a dict key (Python's own limit is its recursion depth, ~1000). */
    static final int MAX_KEY_DEPTH = 32;

    /**
     * A dict key as Python allows it: immutable (None, str, bytes, numbers, bools, tuples of those). A dict or list
     * key is a TypeError in Python; here it would be hashed by content, and a dict that contains itself (memo + SETITEM)
     * made hashCode recurse until StackOverflowError (found by TorchCheckpointFuzzTest).
     */
    private Object hashable(Object key, int at, int depth) {
        if (key instanceof Tuple t) {
            if (depth >= MAX_KEY_DEPTH) throw bad("dict key at byte " + at + " nests tuples deeper than " + MAX_KEY_DEPTH);
            for (Object item : t.items()) hashable(item, at, depth + 1);
            return key;
        }
        if (key == null || key instanceof String || key instanceof Number || key instanceof Boolean || key instanceof byte[]) return key;
        throw bad("unhashable dict key (" + describe(key) + ") at byte " + at);
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int at) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad("SETITEM(S) at byte " + at + " on " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw bad("APPEND(S) at byte " + at + " on " + describe(o));
    }

    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof Tuple) return "a tuple";
        if (o instanceof Map) return "a dict";
        if (o instanceof List) return "a list";
        return "a " + o.getClass().getSimpleName();
    }

    private void push(Object o) { stack.add(o); }

    private Object top() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) throw bad("stack underflow at byte " + (pos - 1));
        return stack.get(stack.size() - 1);
    }

    private Object pop() {
        Object o = top();
        stack.remove(stack.size() - 1);
        return o;
    }

    private List<Object> popN(int n) {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() - n < floor) throw bad("stack underflow at byte " + (pos - 1));
        List<Object> sub = stack.subList(stack.size() - n, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw bad("no MARK for the opcode at byte " + (pos - 1));
        int m = marks.remove(marks.size() - 1);
        List<Object> sub = stack.subList(m, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    // ---------------------------------------------------------------- raw reads, all bounds-checked
    private void need(long n) {
        if (n < 0 || n > data.length - pos) {
            throw bad("pickle is truncated or corrupt: " + n + " bytes needed at byte " + pos + ", " + (data.length - pos) + " left");
        }
    }

    private void skip(int n) { need(n); pos += n; }

    private int u8() { need(1); return data[pos++] & 0xff; }

    private long u32() { return buffer(4).getInt() & 0xffffffffL; }

    private long u64() {
        long v = buffer(8).getLong();
        if (v < 0) throw bad("length " + Long.toUnsignedString(v) + " at byte " + (pos - 8) + " is impossible");
        return v;
    }

    private int length(long n) {
        need(n);
        return (int) n;
    }

    private ByteBuffer buffer(int n) {
        need(n);
        ByteBuffer b = ByteBuffer.wrap(data, pos, n).order(ByteOrder.LITTLE_ENDIAN);
        pos += n;
        return b;
    }

    private byte[] bytes(int n) {
        need(n);
        byte[] out = java.util.Arrays.copyOfRange(data, pos, pos + n);
        pos += n;
        return out;
    }

    private String utf8(int n) {
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data, pos, n)).toString();
            pos += n;
            return s;
        } catch (CharacterCodingException e) {
            throw bad("invalid UTF-8 string at byte " + pos);
        }
    }

    /** A GLOBAL operand: ASCII up to a newline (module and name are identifiers, so 256 bytes is plenty). */
    private String line() {
        int start = pos;
        while (pos < data.length && pos - start < 256 && data[pos] != '\n') pos++;
        if (pos >= data.length || data[pos] != '\n') throw bad("GLOBAL operand at byte " + start + " is not a short line");
        String s = new String(data, start, pos - start, StandardCharsets.US_ASCII);
        pos++;
        return s;
    }

    /** LONG1/LONG4: little-endian two's complement; a Long when it fits (always, for sizes and offsets). */
    private Object longBytes(int n) {
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private WeightFormatException bad(String problem) { return new WeightFormatException(where + ": " + problem); }
}
