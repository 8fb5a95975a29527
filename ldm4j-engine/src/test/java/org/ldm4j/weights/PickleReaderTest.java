package org.ldm4j.weights;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The opcode interpreter on streams written by CPython 3.11's pickle module (hex below). */
class PickleReaderTest {
    /** pickle.dumps([1.5, -2**70, 300, 70000, -1, True, False, None, (1,2,3,4), (), {'a': b'xy'}, 'é', [[]]*2], protocol=N) */
    static final String PROTOCOL_4 = "8004954e000000000000005d9428473ff80000000000008a090000000000000000c04d2c014a701101004affffffff88894e284b014b024b034b047494297d948c0161944302787994738c02c3a9945d94285d94680765652e";
    static final String PROTOCOL_2 = "80025d710028473ff80000000000008a090000000000000000c04d2c014a701101004affffffff88894e284b014b024b034b04747101297d71025801000000617103635f636f646563730a656e636f64650a710458020000007879710558060000006c6174696e317106867107527108735802000000c3a971095d710a285d710b680b65652e";

    static final PickleReader.Globals NONE = (m, n) -> { throw new WeightFormatException("forbidden " + m + "." + n); };
    static final PickleReader.PersistentLoader NO_PID = pid -> { throw new WeightFormatException("no persistent ids"); };

    static Object load(String hex, PickleReader.Globals globals) {
        return PickleReader.load(HexFormat.of().parseHex(hex), "test.pkl", globals, NO_PID);
    }

    @Test void evaluatesCPythonProtocol4() {
        List<?> v = (List<?>) load(PROTOCOL_4, NONE);
        assertEquals(13, v.size());
        assertEquals(1.5, v.get(0));
        assertEquals(BigInteger.TWO.pow(70).negate(), v.get(1));
        assertEquals(List.of(300L, 70000L, -1L, true, false), v.subList(2, 7));
        assertNull(v.get(7));
        assertEquals(new PickleReader.Tuple(List.of(1L, 2L, 3L, 4L)), v.get(8));
        assertEquals(new PickleReader.Tuple(List.of()), v.get(9));
        assertArrayEquals("xy".getBytes(), (byte[]) ((Map<?, ?>) v.get(10)).get("a"));
        assertEquals("é", v.get(11));
        List<?> twice = (List<?>) v.get(12);
        assertSame(twice.get(0), twice.get(1), "BINGET returns the memoised object itself");
    }

    @Test void protocol2BytesNeedACodecsGlobalWhichIsRefusedByName() {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> load(PROTOCOL_2, NONE));
        assertTrue(e.getMessage().contains("_codecs.encode") && e.getMessage().contains("test.pkl, byte 66"), e.getMessage());
    }

    /** Python refuses dict and list keys (TypeError); a dict keyed by itself overflowed the stack in hashCode (fuzzing). */
    @Test void unhashableKeysAreRefusedLikePythonDoes() {
        // {} memoised, then d[d] = None  /  {}[[]] = None  /  {}[([],)] = None
        String[][] cases = {{"80027d710068004e732e", "unhashable dict key (a dict) at byte 8"},
                {"80027d5d4e732e", "unhashable dict key (a list) at byte 5"},
                {"80027d5d854e732e", "unhashable dict key (a list) at byte 6"}};
        for (String[] c : cases) {
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> load(c[0], NONE));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        assertEquals(Map.of(new PickleReader.Tuple(List.of(1L, "a")), 2L), load("80027d4b018c016186944b02732e", NONE));
    }

    @Test void malformedStreamsFailWithThePosition() {
        String[][] cases = {
                {"8002493130", "opcode 0x49 ('I') at byte 2"},       // text-protocol INT
                {"8002680a2e", "memo key 10"},                        // BINGET of nothing
                {"80025d", "without STOP"},
                {"8002292e00", "STOP"},                               // fine stream, trailing byte ignored: ok below
                {"8002295d2e", "STOP with 2 items"},
                {"800261", "stack underflow"},                        // APPEND on an empty stack
                {"80025d292973", "SETITEM(S) at byte 5"},              // SETITEM on a list
                {"8006", "protocol 6"},
                {"800281", "opcode 0x81"}};                           // NEWOBJ is not part of a state dict
        for (String[] c : cases) {
            if (c[0].equals("8002292e00")) {
                assertEquals(new PickleReader.Tuple(List.of()), load(c[0], NONE));
                continue;
            }
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> load(c[0], NONE), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().startsWith("test.pkl"), c[0] + ": " + e.getMessage());
        }
    }
}
