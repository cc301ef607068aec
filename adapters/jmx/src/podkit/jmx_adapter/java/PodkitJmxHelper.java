import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
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
 * podkit-jmx-adapter's helper JVM: one JMX connection kept across scrapes, and the rule patterns
 * matched with java.util.regex itself, so they mean exactly what they mean in jmx_exporter.
 *
 * Answers one JSON line per request line on stdin, in order; every reply carries the request's
 * "id" and "ok" (false with a one-line "error"). Requests ("op"):
 * - "ping": nothing; starts and warms the JVM.
 * - "rules": {"rules": [{"pattern": source or null, "snake": bool, "cache": bool}...]} compiles
 *   each pattern as jmx_exporter does (^.*(?:PATTERN).*$) and keeps them; replies "groups" (each
 *   pattern's group count). A bad pattern refuses the whole set and keeps the old one.
 * - "match": {"timeout_ms": N, "beans": [bean prefix...], "items": [[bean index, attribute,
 *   snake_case attribute, value text]...]} runs the first-match-wins loop of jmx_exporter's
 *   JmxCollector (with its match cache for rules with cache: true) and replies "results": -1 or
 *   [rule index, [group 1, group 2...]] per item, and "cached" (the fresh cache entries). Matching
 *   reads the text through a CharSequence that fails once the deadline has passed, so no pattern
 *   (catastrophic backtracking included) can run past the scrape timeout.
 * - "scrape": {"target": {"url", "username", "password", "ssl"}, "include": [...], "exclude":
 *   [...], "timeout_ms": N} replies "beans": [{"name": ..., "attrs": [[name, description,
 *   value]...]}...] and "skipped": [[bean, attribute, reason]...]. Values: null, true/false, a
 *   string, {"n": toString, "d": doubleValue if it prints differently} for a number, {"c": [[key,
 *   value]...], "d": description} for CompositeData, {"t": {"index": [...], "d": description,
 *   "rows": [composite...]}} for TabularData. A broken connection is reopened once per request
 *   (the target restarted); a value that cannot be sent or unmarshalled here (an application
 *   class) only skips that attribute, with the reason. MBeanInfo is cached per connection and
 *   re-read every minute.
 */
public final class PodkitJmxHelper {
    private JMXConnector connector;
    private MBeanServerConnection connection;
    private final Map<ObjectName, MBeanInfo> infos = new HashMap<>();
    private static final long INFO_TTL_NANOS = 60_000_000_000L;
    private long infosLoaded = System.nanoTime();
    private static final Set<String> SKIPPED_RUNTIME =
            Set.of("SystemProperties", "ClassPath", "BootClassPath", "LibraryPath");
    private static final String PREFIX = "^.*(?:";

    private String url = "";
    private String username = "";
    private String password = "";
    private boolean ssl;
    private Map<?, ?> sslOptions;
    private final List<String[]> skipped = new ArrayList<>();

    private Pattern[] patterns = new Pattern[0];
    private String[] sources = new String[0];
    private boolean[] snake = new boolean[0];
    private boolean[] cache = new boolean[0];
    private boolean anyCache;
    private final Map<String, String> matchCache = new HashMap<>();

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
            String op = "scrape";
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> request = (Map<String, Object>) new Json(line).value();
                id = ((Number) request.get("id")).longValue();
                if (request.get("op") != null) {
                    op = (String) request.get("op");
                }
                reply.append("{\"id\":").append(id).append(",\"ok\":true");
                long timeout = request.get("timeout_ms") == null ? 60_000L
                        : ((Number) request.get("timeout_ms")).longValue();
                long deadline = System.nanoTime() + timeout * 1_000_000L;
                switch (op) {
                    case "ping":
                        break;
                    case "rules":
                        helper.rules((List<?>) request.get("rules"), reply);
                        break;
                    case "match":
                        helper.match((List<?>) request.get("beans"), (List<?>) request.get("items"),
                                deadline, reply);
                        break;
                    case "scrape":
                        helper.target((Map<?, ?>) request.get("target"));
                        reply.append(",\"beans\":");
                        helper.scrape(strings(request.get("include")), strings(request.get("exclude")),
                                deadline, reply);
                        helper.skipped(reply);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown op " + op);
                }
                reply.append('}');
            } catch (Throwable e) {
                if (op.equals("scrape") && !(e instanceof DeadlineExceeded)) {
                    helper.close();
                }
                reply.setLength(0);
                reply.append("{\"id\":").append(id).append(",\"ok\":false,\"error\":");
                quote(reply, e instanceof DeadlineExceeded || e instanceof IllegalArgumentException
                        ? e.getMessage() : oneLine(e));
                reply.append('}');
            }
            out.println(reply);
            out.flush();
        }
        helper.close();
    }

    /** Thrown when a request runs past its deadline; the message is the reply's error. */
    static final class DeadlineExceeded extends RuntimeException {
        DeadlineExceeded(String message) {
            super(message, null, false, false);
        }
    }

    /** The text a pattern reads: fails once the deadline has passed (checked every 4096 reads). */
    static final class DeadlineChars implements CharSequence {
        private final String text;
        private final long deadline;
        private int budget = 4096;

        DeadlineChars(String text, long deadline) {
            this.text = text;
            this.deadline = deadline;
        }

        @Override
        public char charAt(int index) {
            if (--budget == 0) {
                budget = 4096;
                if (System.nanoTime() - deadline > 0) {
                    throw new DeadlineExceeded("");
                }
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return text.substring(start, end);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private void rules(List<?> rules, StringBuilder out) {
        int n = rules.size();
        Pattern[] newPatterns = new Pattern[n];
        String[] newSources = new String[n];
        boolean[] newSnake = new boolean[n];
        boolean[] newCache = new boolean[n];
        boolean newAnyCache = false;
        out.append(",\"groups\":[");
        for (int i = 0; i < n; i++) {
            Map<?, ?> rule = (Map<?, ?>) rules.get(i);
            String source = (String) rule.get("pattern");
            newSources[i] = source;
            newSnake[i] = Boolean.TRUE.equals(rule.get("snake"));
            newCache[i] = Boolean.TRUE.equals(rule.get("cache"));
            newAnyCache |= newCache[i];
            if (i > 0) {
                out.append(',');
            }
            if (source == null) {
                out.append(0);
                continue;
            }
            try {
                newPatterns[i] = Pattern.compile(PREFIX + source + ").*$");
            } catch (PatternSyntaxException e) {
                int at = e.getIndex() - PREFIX.length();
                throw new IllegalArgumentException("rules[" + i + "]: pattern '" + source
                        + "' is not a valid Java regex: " + e.getDescription()
                        + (at >= 0 && at <= source.length() ? " near index " + at : ""));
            }
            out.append(newPatterns[i].matcher("").groupCount());
        }
        out.append(']');
        patterns = newPatterns;
        sources = newSources;
        snake = newSnake;
        cache = newCache;
        anyCache = newAnyCache;
        matchCache.clear();
    }

    private void match(List<?> beans, List<?> items, long deadline, StringBuilder out) {
        Set<String> fresh = anyCache ? new HashSet<>() : null;
        out.append(",\"results\":[");
        StringBuilder one = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            List<?> item = (List<?>) items.get(i);
            String beanName = (String) beans.get(((Number) item.get(0)).intValue());
            String attr = (String) item.get(1);
            String snakeAttr = (String) item.get(2);
            String text = (String) item.get(3);
            String key = null;
            String cached = null;
            if (anyCache) {
                key = beanName + '\u0000' + attr;
                cached = matchCache.get(key);
                if (cached != null) {
                    fresh.add(key);
                }
            }
            if (i > 0) {
                out.append(',');
            }
            if (cached != null && !cached.equals("-1")) {
                out.append(cached);
                continue;
            }
            String result = "-1";
            for (int r = 0; r < patterns.length; r++) {
                if (cache[r] && cached != null) {
                    continue; // as jmx_exporter: a cached miss only re-checks the uncached rules
                }
                String matchName = beanName + (snake[r] ? snakeAttr : attr) + ": "
                        + (cache[r] ? "<cache>" : text);
                one.setLength(0);
                one.append('[').append(r).append(",[");
                if (sources[r] != null) {
                    Matcher m = patterns[r].matcher(new DeadlineChars(matchName, deadline));
                    try {
                        if (!m.matches()) {
                            continue;
                        }
                    } catch (DeadlineExceeded e) {
                        throw new DeadlineExceeded("rules[" + r + "]: pattern '" + sources[r]
                                + "' was still matching " + shorten(matchName)
                                + " when the scrape timeout ran out");
                    }
                    for (int g = 1; g <= m.groupCount(); g++) {
                        if (g > 1) {
                            one.append(',');
                        }
                        quote(one, m.group(g));
                    }
                }
                one.append("]]");
                result = one.toString();
                if (cache[r]) {
                    matchCache.put(key, result);
                    fresh.add(key);
                }
                break;
            }
            if (anyCache && result.equals("-1")) {
                matchCache.put(key, result);
                fresh.add(key);
            }
            out.append(result);
        }
        out.append(']');
        if (anyCache) {
            matchCache.keySet().retainAll(fresh);
        }
        out.append(",\"cached\":").append(anyCache ? fresh.size() : 0);
    }

    private static String shorten(String text) {
        return "'" + (text.length() > 200 ? text.substring(0, 200) + "..." : text) + "'";
    }

    private void target(Map<?, ?> target) {
        String newUrl = String.valueOf(target.get("url"));
        String newUser = target.get("username") == null ? "" : String.valueOf(target.get("username"));
        String newPassword = target.get("password") == null ? "" : String.valueOf(target.get("password"));
        boolean newSsl = Boolean.TRUE.equals(target.get("ssl"));
        Map<?, ?> newOptions = (Map<?, ?>) target.get("ssl_options");
        if (!newUrl.equals(url) || !newUser.equals(username) || !newPassword.equals(password)
                || newSsl != ssl || !java.util.Objects.equals(newOptions, sslOptions)) {
            close();
            url = newUrl;
            username = newUser;
            password = newPassword;
            ssl = newSsl;
            sslOptions = newOptions;
        }
    }

    /**
     * jmx_exporter 1.x's ssl map: key and trust stores (else the javax.net.ssl.* system
     * properties, as the JVM's defaults), enabled protocols and cipher suites.
     */
    private void sslContext() throws IOException {
        if (sslOptions == null) {
            return;
        }
        try {
            javax.net.ssl.KeyManager[] keys = null;
            javax.net.ssl.TrustManager[] trust = null;
            Map<?, ?> keyStore = (Map<?, ?>) sslOptions.get("key_store");
            if (keyStore != null) {
                java.security.KeyStore store = loadStore(keyStore);
                javax.net.ssl.KeyManagerFactory factory = javax.net.ssl.KeyManagerFactory.getInstance(
                        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
                factory.init(store, String.valueOf(keyStore.get("password")).toCharArray());
                keys = factory.getKeyManagers();
            }
            Map<?, ?> trustStore = (Map<?, ?>) sslOptions.get("trust_store");
            if (trustStore != null) {
                javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
                        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
                factory.init(loadStore(trustStore));
                trust = factory.getTrustManagers();
            }
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            javax.net.ssl.SSLContext.setDefault(context); // SslRMIClientSocketFactory uses the default
            List<String> protocols = strings(sslOptions.get("protocols"));
            if (!protocols.isEmpty()) {
                System.setProperty("javax.rmi.ssl.client.enabledProtocols", String.join(",", protocols));
            }
            List<String> ciphers = strings(sslOptions.get("ciphers"));
            if (!ciphers.isEmpty()) {
                System.setProperty("javax.rmi.ssl.client.enabledCipherSuites", String.join(",", ciphers));
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("ssl: " + oneLine(e), e);
        }
    }

    private static java.security.KeyStore loadStore(Map<?, ?> spec) throws IOException,
            java.security.GeneralSecurityException {
        String type = spec.get("type") == null || String.valueOf(spec.get("type")).isEmpty()
                ? java.security.KeyStore.getDefaultType() : String.valueOf(spec.get("type"));
        java.security.KeyStore store = java.security.KeyStore.getInstance(type);
        try (java.io.InputStream in = new java.io.FileInputStream(String.valueOf(spec.get("filename")))) {
            store.load(in, String.valueOf(spec.get("password")).toCharArray());
        }
        return store;
    }

    private void skipped(StringBuilder out) {
        out.append(",\"skipped\":[");
        for (int i = 0; i < skipped.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            String[] one = skipped.get(i);
            out.append('[');
            quote(out, one[0]);
            out.append(',');
            quote(out, one[1]);
            out.append(',');
            quote(out, one[2]);
            out.append(']');
        }
        out.append(']');
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
        Map<String, Object> env = new HashMap<>();
        String user = username;
        if (!user.isEmpty() && !password.isEmpty()) {
            env.put(JMXConnector.CREDENTIALS, new String[] {user, password});
        }
        if (ssl) {
            sslContext();
            SslRMIClientSocketFactory factory = new SslRMIClientSocketFactory();
            env.put("jmx.remote.rmi.client.socket.factory", factory);
            if (!"true".equalsIgnoreCase(System.getenv("RMI_REGISTRY_SSL_DISABLED"))) {
                env.put("com.sun.jndi.rmi.factory.socket", factory); // as jmx_exporter
            }
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

    private void scrape(List<String> include, List<String> exclude, long deadline, StringBuilder out)
            throws Exception {
        skipped.clear();
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
        int done = 0;
        for (ObjectName name : names) {
            if (System.nanoTime() - deadline > 0) {
                throw new DeadlineExceeded("the scrape timeout ran out after reading " + done + " of "
                        + names.size() + " MBeans");
            }
            done++;
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
            String bean = name.toString();
            quote(out, bean);
            out.append(",\"attrs\":[");
            boolean firstAttr = true;
            for (Attribute attr : read(name, bean, readable)) {
                int mark = out.length();
                if (!firstAttr) {
                    out.append(',');
                }
                out.append('[');
                quote(out, attr.getName());
                out.append(',');
                quote(out, descriptions.get(attr.getName()));
                out.append(',');
                String reason = value(out, attr.getValue(), bean, attr.getName());
                if (reason == null) {
                    out.append(']');
                    firstAttr = false;
                } else {
                    out.setLength(mark);
                    skipped.add(new String[] {bean, attr.getName(), reason});
                }
            }
            out.append("]}");
        }
        out.append(']');
    }

    private List<Attribute> read(ObjectName name, String bean, List<String> readable) throws IOException {
        if (readable.isEmpty()) {
            return new ArrayList<>();
        }
        try {
            AttributeList list = connection.getAttributes(name, readable.toArray(new String[0]));
            List<Attribute> got = list.asList();
            if (got.size() < readable.size()) {
                Set<String> missing = new LinkedHashSet<>(readable);
                for (Attribute attr : got) {
                    missing.remove(attr.getName());
                }
                for (String attr : missing) {
                    skipped.add(new String[] {bean, attr, "left out of getAttributes by the MBean server (its getter failed)"});
                }
            }
            return got;
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
                    skipped.add(new String[] {bean, attr, "cannot be read: " + oneLine(one)});
                }
            }
            return out;
        }
    }

    /** The beans to read, in jmx_exporter's order: a HashSet's (first matches name HELP texts). */
    private Set<ObjectName> query(List<String> include, List<String> exclude) throws Exception {
        Set<ObjectName> names = new HashSet<>();
        if (include.isEmpty()) {
            names.addAll(connection.queryNames(null, null));
        }
        for (String pattern : include) {
            names.addAll(connection.queryNames(new ObjectName(pattern), null));
        }
        for (String pattern : exclude) {
            names.removeAll(connection.queryNames(new ObjectName(pattern), null));
        }
        return names;
    }

    /** Writes the value; returns null, or why it is left out (nothing written then). */
    private String value(StringBuilder out, Object value, String bean, String attr) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean) {
            out.append(value.toString());
        } else if (value instanceof Number) {
            Number number = (Number) value;
            String text = number.toString();
            out.append("{\"n\":");
            quote(out, text);
            String dbl = Double.toString(number.doubleValue());
            if (!dbl.equals(text)) {
                out.append(",\"d\":");
                quote(out, dbl);
            }
            out.append('}');
        } else if (value instanceof String) {
            quote(out, (String) value);
        } else if (value instanceof CompositeData) {
            composite(out, (CompositeData) value, bean, attr);
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
                    composite(out, (CompositeData) row, bean, attr);
                }
            }
            out.append("]}}");
        } else if (value instanceof java.util.Date) {
            out.append("{\"n\":");
            quote(out, Double.toString(((java.util.Date) value).getTime() / 1000.0));
            out.append('}');
        } else if (value instanceof java.util.Optional) {
            java.util.Optional<?> optional = (java.util.Optional<?>) value;
            return value(out, optional.isPresent() ? optional.get() : null, bean, attr);
        } else if (value instanceof Enum) {
            quote(out, value.toString());
        } else {
            // arrays and other objects are not exported, as in jmx_exporter
            return "unsupported type " + value.getClass().getTypeName();
        }
        return null;
    }

    private void composite(StringBuilder out, CompositeData data, String bean, String attr) {
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
            String reason = value(out, data.get(key), bean, attr + "." + key);
            if (reason == null) {
                out.append(']');
                first = false;
            } else {
                out.setLength(mark);
                skipped.add(new String[] {bean, attr + "." + key, reason});
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
