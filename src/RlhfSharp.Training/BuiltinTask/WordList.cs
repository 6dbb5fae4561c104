namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// The closed word inventory of reversal and counting questions: 120 common lowercase nouns and
/// adjectives of 3–6 letters. None is a palindrome, none reversed is another word of the list, and
/// none is an anagram of a word the response phrases use (the reversal extraction looks for anagrams).
/// </summary>
public static class WordList
{
    public static IReadOnlyList<string> Words { get; } =
    [
        "cat", "dog", "sun", "tree", "bird", "fish", "milk", "moon", "book", "lamp",
        "rain", "frog", "duck", "cake", "ship", "door", "leaf", "rock", "wind", "apple",
        "bread", "chair", "table", "house", "horse", "mouse", "water", "light", "green", "black",
        "white", "plant", "river", "cloud", "snow", "fire", "road", "hill", "lake", "sand",
        "salt", "corn", "rice", "pen", "cup", "hat", "bag", "box", "bus", "car",
        "key", "map", "jam", "bed", "red", "blue", "pink", "gold", "ring", "bell",
        "coat", "shoe", "sock", "boat", "kite", "drum", "song", "king", "queen", "baby",
        "girl", "hand", "foot", "nose", "arm", "leg", "head", "hair", "face", "desk",
        "wall", "roof", "farm", "goat", "lion", "bear", "wolf", "deer", "owl", "bee",
        "ant", "pig", "cow", "hen", "fox", "tiger", "zebra", "lemon", "grape", "peach",
        "plum", "pear", "nut", "bean", "soup", "tea", "jar", "fork", "spoon", "plate",
        "brush", "clock", "phone", "paper", "glass", "stone", "grass", "flower", "garden", "banana",
    ];
}
