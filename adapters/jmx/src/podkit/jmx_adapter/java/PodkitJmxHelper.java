import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.rmi.ssl.SslRMIClientSocketFactory;

/**
 * podkit-jmx-adapter's persistent backend: one JMX connection kept across scrapes.
 *
 * Reads the target from the environment (PODKIT_JMX_URL, PODKIT_JMX_USERNAME,
 * PODKIT_JMX_PASSWORD, PODKIT_JMX_SSL), then answers one JSON line per request line on stdin:
 * {"id": N, "include": [patterns], "exclude": [patterns]} ->
 * {"id": N, "ok": true, "beans": [{"name": ..., "attrs": [[name, description, value], ...]}]}
 * or {"id": N, "ok": false, "error": "..."}. Values: null, true/false, a string, {"n": toString}
 * for a number, {"c": [[key, value]...], "d": description} for CompositeData, {"t": {"index":
 * [...], "d": description, "rows": [composite...]}} for TabularData; other types are left out.
 * A broken connection is reopened once per request (the target restarted); a value that cannot
 * be sent or unmarshalled here (an application class) only skips that attribute. MBeanInfo is
 * cached per connection and re-read every minute.
 */
public final class PodkitJmxHelper {
    private JMXConnector connector;
    private MBeanServerConnection connection;
    private final Map<ObjectName, MBeanInfo> infos = new HashMap<>();
    private static final long INFO_TTL_NANOS = 60_000_000_000L;
    private long infosLoaded = System.nanoTime();
    private static final Set<String> SKIPPED_RUNTIME =
            Set.of("SystemProperties", "ClassPath", "BootClassPath", "LibraryPath");

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PodkitJmxHelper helper = new PodkitJmxHelper();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            StringBuilder reply = new StringBuilder(1 << 16);
            long id = -1;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> request = (Map<String, Object>) new Json(line).value();
                id = ((Number) request.get("id")).longValue();
                reply.append("{\"id\":").append(id).append(",\"ok\":true,\"beans\":");
                helper.scrape(strings(request.get("include")), strings(request.get("exclude")), reply);
                reply.append('}');
            } catch (Throwable e) {
                helper.close();
                reply.setLength(0);
                reply.append("{\"id\":").append(id).append(",\"ok\":false,\"error\":");
                quote(reply, oneLine(e));
                reply.append('}');
            }
            out.println(reply);
            out.flush();
        }
        helper.close();
    }

    private static List<String> strings(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof List) {
            for (Object item : (List<?>) value) {
                out.add(String.valueOf(item));
            }
        }
        return out;
    }

    private static String oneLine(Throwable e) {
        StringBuilder text = new StringBuilder();
        Throwable t = e;
        while (t != null && text.length() < 400) {
            if (text.length() > 0) {
                text.append(": ");
            }
            text.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                text.append(" ").append(t.getMessage().split("\n")[0]);
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return text.toString();
    }

    private void connect() throws IOException {
        if (connection != null) {
            return;
        }
        String url = System.getenv("PODKIT_JMX_URL");
        Map<String, Object> env = new HashMap<>();
        String user = System.getenv("PODKIT_JMX_USERNAME");
        String password = System.getenv("PODKIT_JMX_PASSWORD");
        if (user != null && !user.isEmpty() && password != null && !password.isEmpty()) {
            env.put(JMXConnector.CREDENTIALS, new String[] {user, password});
        }
        if ("true".equals(System.getenv("PODKIT_JMX_SSL"))) {
            SslRMIClientSocketFactory factory = new SslRMIClientSocketFactory();
            env.put("com.sun.jndi.rmi.factory.socket", factory);
            env.put("jmx.remote.rmi.client.socket.factory", factory);
        }
        connector = JMXConnectorFactory.connect(new JMXServiceURL(url), env);
        connection = connector.getMBeanServerConnection();
    }

    private void close() {
        infos.clear();
        connection = null;
        if (connector != null) {
            try {
                connector.close();
            } catch (Exception ignored) {
                // the connection is gone anyway
            }
            connector = null;
        }
    }

    /** Whether an exception means the connection is gone (as opposed to one unreadable value). */
    private static boolean connectionLost(Throwable e) {
        return e instanceof IOException
                && !(e instanceof java.rmi.UnmarshalException)
                && !(e instanceof java.rmi.MarshalException)
                && !(e instanceof java.rmi.ServerException)
                && !(e instanceof java.rmi.ServerError);
    }

    private void scrape(List<String> include, List<String> exclude, StringBuilder out) throws Exception {
        if (System.nanoTime() - infosLoaded > INFO_TTL_NANOS) {
            infos.clear(); // MBeanInfo may change when a bean is re-registered: re-read it now and then
            infosLoaded = System.nanoTime();
        }
        Set<ObjectName> names;
        try {
            connect();
            names = query(include, exclude);
        } catch (IOException e) {
            close(); // the target may have restarted: one fresh connection
            connect();
            names = query(include, exclude);
        }
        infos.keySet().retainAll(names);
        out.append('[');
        boolean first = true;
        for (ObjectName name : names) {
            MBeanInfo info = infos.get(name);
            try {
                if (info == null) {
                    info = connection.getMBeanInfo(name);
                    infos.put(name, info);
                }
            } catch (Exception e) {
                if (connectionLost(e)) {
                    throw e;
                }
                continue; // unregistered meanwhile, or unreadable: jmx_exporter skips it too
            }
            String canonical = name.getCanonicalName();
            if (canonical.equals("jdk.management.jfr:type=FlightRecorder")) {
                continue; // as jmx_exporter: expensive, and nothing numeric
            }
            boolean runtime = canonical.equals("java.lang:type=Runtime");
            List<String> readable = new ArrayList<>();
            Map<String, String> descriptions = new HashMap<>();
            for (MBeanAttributeInfo attr : info.getAttributes()) {
                if (runtime && SKIPPED_RUNTIME.contains(attr.getName())) {
                    continue; // as jmx_exporter: expensive strings it ignores anyway
                }
                if (attr.isReadable()) {
                    readable.add(attr.getName());
                    descriptions.put(attr.getName(), attr.getDescription());
                }
            }
            if (!first) {
                out.append(',');
            }
            first = false;
            out.append("{\"name\":");
            quote(out, name.toString());
            out.append(",\"attrs\":[");
            boolean firstAttr = true;
            for (Attribute attr : read(name, readable)) {
                int mark = out.length();
                if (!firstAttr) {
                    out.append(',');
                }
                out.append('[');
                quote(out, attr.getName());
                out.append(',');
                quote(out, descriptions.get(attr.getName()));
                out.append(',');
                if (value(out, attr.getValue())) {
                    out.append(']');
                    firstAttr = false;
                } else {
                    out.setLength(mark);
                }
            }
            out.append("]}");
        }
        out.append(']');
    }

    private List<Attribute> read(ObjectName name, List<String> readable) throws IOException {
        if (readable.isEmpty()) {
            return new ArrayList<>();
        }
        try {
            AttributeList list = connection.getAttributes(name, readable.toArray(new String[0]));
            return list.asList();
        } catch (Exception e) {
            if (connectionLost(e)) {
                throw (IOException) e;
            }
            // as jmx_exporter: when the bulk read fails (one value cannot be sent or
            // unmarshalled here), read them one by one and skip the ones that fail
            List<Attribute> out = new ArrayList<>();
            for (String attr : readable) {
                try {
                    out.add(new Attribute(attr, connection.getAttribute(name, attr)));
                } catch (Exception one) {
                    if (connectionLost(one)) {
                        throw (IOException) one;
                    }
                }
            }
            return out;
        }
    }

    private Set<ObjectName> query(List<String> include, List<String> exclude) throws Exception {
        Set<ObjectName> names = new LinkedHashSet<>();
        if (include.isEmpty()) {
            names.addAll(new TreeSet<>(connection.queryNames(null, null)));
        }
        for (String pattern : include) {
            names.addAll(new TreeSet<>(connection.queryNames(new ObjectName(pattern), null)));
        }
        for (String pattern : exclude) {
            names.removeAll(connection.queryNames(new ObjectName(pattern), null));
        }
        return names;
    }

    private static boolean value(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean) {
            out.append(value.toString());
        } else if (value instanceof Number) {
            out.append("{\"n\":");
            quote(out, value.toString());
            out.append('}');
        } else if (value instanceof String) {
            quote(out, (String) value);
        } else if (value instanceof CompositeData) {
            composite(out, (CompositeData) value);
        } else if (value instanceof TabularData) {
            TabularData table = (TabularData) value;
            out.append("{\"t\":{\"index\":[");
            List<String> index = table.getTabularType().getIndexNames();
            for (int i = 0; i < index.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                quote(out, index.get(i));
            }
            out.append("],\"d\":");
            quote(out, table.getTabularType().getRowType().getDescription());
            out.append(",\"rows\":[");
            boolean first = true;
            for (Object row : table.values()) {
                if (row instanceof CompositeData) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    composite(out, (CompositeData) row);
                }
            }
            out.append("]}}");
        } else if (value instanceof java.util.Date) {
            out.append("{\"n\":");
            quote(out, Double.toString(((java.util.Date) value).getTime() / 1000.0));
            out.append('}');
        } else if (value instanceof java.util.Optional) {
            java.util.Optional<?> optional = (java.util.Optional<?>) value;
            return optional.isPresent() ? value(out, optional.get()) : value(out, null);
        } else if (value instanceof Character || value instanceof Enum) {
            quote(out, value.toString());
        } else {
            return false; // arrays and other objects are not exported, as in jmx_exporter
        }
        return true;
    }

    private static void composite(StringBuilder out, CompositeData data) {
        CompositeType type = data.getCompositeType();
        out.append("{\"c\":[");
        boolean first = true;
        for (String key : type.keySet()) {
            int mark = out.length();
            if (!first) {
                out.append(',');
            }
            out.append('[');
            quote(out, key);
            out.append(',');
            if (value(out, data.get(key))) {
                out.append(']');
                first = false;
            } else {
                out.setLength(mark);
            }
        }
        out.append("],\"d\":");
        quote(out, type.getDescription());
        out.append('}');
    }

    private static void quote(StringBuilder out, String text) {
        if (text == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    /** Just enough JSON to read a request: objects, arrays, strings, numbers, literals. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> map = new LinkedHashMap<>();
                i++;
                skip();
                if (s.charAt(i) == '}') {
                    i++;
                    return map;
                }
                while (true) {
                    skip();
                    String key = string();
                    skip();
                    expect(':');
                    map.put(key, value());
                    skip();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return map;
                }
            }
            if (c == '[') {
                List<Object> list = new ArrayList<>();
                i++;
                skip();
                if (s.charAt(i) == ']') {
                    i++;
                    return list;
                }
                while (true) {
                    list.add(value());
                    skip();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return list;
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && ",}] \t".indexOf(s.charAt(i)) < 0) {
                i++;
            }
            String word = s.substring(start, i);
            switch (word) {
                case "true": return Boolean.TRUE;
                case "false": return Boolean.FALSE;
                case "null": return null;
                default: return Double.valueOf(word);
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return out.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': out.append('\n'); break;
                        case 't': out.append('\t'); break;
                        case 'r': out.append('\r'); break;
                        case 'b': out.append('\b'); break;
                        case 'f': out.append('\f'); break;
                        case 'u': out.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                        default: out.append(e);
                    }
                } else {
                    out.append(c);
                }
            }
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("bad request JSON at " + i);
            }
            i++;
        }
    }
}
