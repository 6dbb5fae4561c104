namespace RlhfSharp.Text.Chat;

/// <summary>
/// A chat template cannot be chosen or cannot render what it was given (an unknown template name,
/// tools given to a built-in template). The message says what was asked, what is wrong and what
/// would work.
/// </summary>
public sealed class ChatTemplateException(string message) : Exception(message), IUserError;
