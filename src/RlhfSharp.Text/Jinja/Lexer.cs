using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>
/// Splits a template into tokens the way jinja2's lexer does with Hugging Face's settings:
/// trim_blocks (the newline after a block or comment tag goes), lstrip_blocks (spaces and tabs
/// before a block or comment tag at the start of a line go), <c>-</c> on a tag's side strips all
/// whitespace on that side, <c>+</c> turns the trimming off; line breaks are normalised to
/// <c>\n</c> and one trailing newline is dropped (keep_trailing_newline=False).
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly string _name;
    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private int _pos;

    private Lexer(string name, string source)
    {
        _name = name;
        _src = NormalizeNewlines(source);
    }

    public static List<Token> Tokenize(string name, string source)
    {
        var lexer = new Lexer(name, source);
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>Python's <c>"\n".join(source.splitlines())</c>: every line break becomes \n and one trailing break goes.</summary>
    internal static string NormalizeNewlines(string source)
    {
        var sb = new StringBuilder(source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            if (c == '\r')
            {
                if (i + 1 < source.Length && source[i + 1] == '\n') i++;
                sb.Append('\n');
            }
            else if (c is '\n' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029') sb.Append('\n');
            else sb.Append(c);
        }
        if (sb.Length > 0 && sb[^1] == '\n') sb.Length--;
        return sb.ToString();
    }

    private int _linePos;
    private int _line = 1;

    // Tokens are emitted in order, so the line count moves forward from the last position asked.
    private int LineAt(int pos)
    {
        if (pos < _linePos) (_linePos, _line) = (0, 1);
        for (; _linePos < pos && _linePos < _src.Length; _linePos++) if (_src[_linePos] == '\n') _line++;
        return _line;
    }

    private JinjaTemplateException Error(int pos, string problem) => new(_name, LineAt(pos), JinjaErrorKind.Syntax, problem);

    private void Run()
    {
        bool lineStarting = true;
        while (_pos < _src.Length)
        {
            int tag = FindTagStart(_pos);
            string text = _src[_pos..(tag < 0 ? _src.Length : tag)];
            if (tag < 0)
            {
                Emit(TokenKind.Data, text, _pos);
                break;
            }
            char kind = _src[tag + 1];
            char sign = tag + 2 < _src.Length && _src[tag + 2] is '-' or '+' ? _src[tag + 2] : '\0';
            if (sign == '-') text = text.TrimEnd();
            else if (sign != '+' && kind != '{')
            {
                int lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && lineStart < text.Length && text.AsSpan(lineStart).IsWhiteSpace())
                    text = text[..lineStart];
            }
            if (text.Length > 0) Emit(TokenKind.Data, text, _pos);
            _pos = tag + 2 + (sign == '\0' ? 0 : 1);
            if (kind == '#') LexComment(tag);
            else LexTag(kind == '%', tag);
            lineStarting = _pos > 0 && _src[_pos - 1] == '\n';
        }
        _tokens.Add(new Token(TokenKind.End, "", LineAt(_src.Length)));
    }

    private int FindTagStart(int from)
    {
        for (int i = from; i + 1 < _src.Length; i++)
            if (_src[i] == '{' && _src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    private void LexComment(int start)
    {
        int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0) throw Error(start, "unclosed comment: '{#' has no matching '#}'");
        char sign = end > _pos && _src[end - 1] is '-' or '+' ? _src[end - 1] : '\0';
        _pos = end + 2;
        AfterTagEnd(sign, trims: true);
    }

    private void AfterTagEnd(char sign, bool trims)
    {
        if (sign == '-') while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
        else if (sign != '+' && trims && _pos < _src.Length && _src[_pos] == '\n') _pos++;
    }

    private void LexTag(bool block, int start)
    {
        Emit(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, block ? "{%" : "{{", start);
        var brackets = new Stack<char>();
        string closer = block ? "%}" : "}}";
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
            if (_pos >= _src.Length)
                throw Error(start, $"unexpected end of template: '{(block ? "{%" : "{{")}' has no matching '{closer}'");
            if (brackets.Count == 0)
            {
                char sign = _src[_pos] is '-' or '+' ? _src[_pos] : '\0';
                int at = _pos + (sign == '\0' ? 0 : 1);
                if (string.CompareOrdinal(_src, at, closer, 0, 2) == 0 && !(sign == '+' && !block))
                {
                    Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, closer, _pos);
                    _pos = at + 2;
                    AfterTagEnd(sign, trims: block);
                    return;
                }
            }
            LexExpressionToken(brackets);
        }
    }

    private void LexExpressionToken(Stack<char> brackets)
    {
        int start = _pos;
        char c = _src[_pos];
        if (char.IsLetter(c) || c == '_')
        {
            while (_pos < _src.Length && (char.IsLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
            Emit(TokenKind.Name, _src[start.._pos], start);
        }
        else if (char.IsAsciiDigit(c)) LexNumber();
        else if (c is '\'' or '"') LexString(c);
        else
        {
            foreach (var op in Operators)
            {
                if (string.CompareOrdinal(_src, _pos, op, 0, op.Length) != 0) continue;
                if (op is "(" or "[" or "{") brackets.Push(op[0]);
                else if (op is ")" or "]" or "}")
                {
                    char open = op == ")" ? '(' : op == "]" ? '[' : '{';
                    if (brackets.Count == 0 || brackets.Peek() != open)
                        throw Error(start, brackets.Count == 0 ? $"unexpected '{op}'" : $"unexpected '{op}', expected '{Closing(brackets.Peek())}'");
                    brackets.Pop();
                }
                _pos += op.Length;
                Emit(TokenKind.Operator, op, start);
                return;
            }
            throw Error(start, $"unexpected char '{c}' at {start}");
        }
    }

    private static char Closing(char open) => open == '(' ? ')' : open == '[' ? ']' : '}';

    private void LexNumber()
    {
        int start = _pos;
        bool afterDot = start > 0 && _src[start - 1] == '.';
        ReadDigits();
        bool isFloat = false;
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            _pos++;
            ReadDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            int save = _pos++;
            if (_pos < _src.Length && _src[_pos] is '+' or '-') _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            {
                ReadDigits();
                isFloat = true;
            }
            else _pos = save;
        }
        Emit(isFloat ? TokenKind.Float : TokenKind.Integer, _src[start.._pos].Replace("_", "", StringComparison.Ordinal), start);
    }

    private void ReadDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1])))) _pos++;
    }

    private void LexString(char quote)
    {
        int start = _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length) throw Error(start, "unterminated string literal");
            char c = _src[_pos++];
            if (c == quote) break;
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _src.Length) throw Error(start, "unterminated string literal");
            Unescape(sb, start);
        }
        Emit(TokenKind.String, sb.ToString(), start);
    }

    // Python's "unicode-escape" decoding of one escape; unknown escapes keep their backslash.
    private void Unescape(StringBuilder sb, int start)
    {
        char e = _src[_pos++];
        switch (e)
        {
            case '\n': break;
            case '\\': sb.Append('\\'); break;
            case '\'': sb.Append('\''); break;
            case '"': sb.Append('"'); break;
            case 'a': sb.Append('\a'); break;
            case 'b': sb.Append('\b'); break;
            case 'f': sb.Append('\f'); break;
            case 'n': sb.Append('\n'); break;
            case 'r': sb.Append('\r'); break;
            case 't': sb.Append('\t'); break;
            case 'v': sb.Append('\v'); break;
            case 'x': sb.Append((char)Hex(2, start)); break;
            case 'u': sb.Append((char)Hex(4, start)); break;
            case 'U': sb.Append(char.ConvertFromUtf32(Hex(8, start))); break;
            case >= '0' and <= '7':
                int value = e - '0';
                for (int k = 0; k < 2 && _pos < _src.Length && _src[_pos] is >= '0' and <= '7'; k++) value = value * 8 + (_src[_pos++] - '0');
                sb.Append((char)value);
                break;
            default: sb.Append('\\').Append(e); break;
        }
    }

    private int Hex(int digits, int start)
    {
        if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v)
            || v > 0x10FFFF)
            throw Error(start, $"invalid \\{_src[_pos - 1]} escape in a string literal: expected {digits} hex digits");
        _pos += digits;
        return v;
    }

    private void Emit(TokenKind kind, string value, int pos) => _tokens.Add(new Token(kind, value, LineAt(pos)));
}
