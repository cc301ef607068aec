import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The tests' oracle: java.util.regex asked directly, as jmx_exporter asks it. Reads lines
 * "pattern TAB text" (text with \n, \r, \t and \\ escaped) and prints "true" or "false" per
 * line: whether Pattern.compile("^.*(?:" + pattern + ").*$").matcher(text).matches().
 */
public final class RegexOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            int tab = line.indexOf('\t');
            String text = unescape(line.substring(tab + 1));
            Pattern pattern = Pattern.compile("^.*(?:" + unescape(line.substring(0, tab)) + ").*$");
            System.out.println(pattern.matcher(text).matches());
        }
    }

    private static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char e = s.charAt(++i);
                out.append(e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
